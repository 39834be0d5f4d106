terraform {
  backend "local" {
    path = "reconciler.state.json"
  }
}

provider "hcloud" {
  token = var.hcloud_token
}

provider "google" {
  project = "fleet-demo"
  region  = "europe-west4"
  zone    = "europe-west4-a"
}

locals {
  labels = { fleet = "demo", owner = "ops" }
}

resource "hcloud_ssh_key" "admin" {
  name       = "admin"
  public_key = var.admin_key
}

resource "hcloud_server" "web" {
  for_each    = var.web_nodes
  name        = each.key
  server_type = "cx23"
  image       = "ubuntu-24.04"
  locations   = ["fsn1", "nbg1", "hel1"]
  ssh_keys    = [hcloud_ssh_key.admin.name]
  labels      = merge(local.labels, { role = "web" })
}

resource "google_compute_instance" "cpu" {
  enabled      = var.cpu_enabled
  name         = "cinnabar"
  machine_type = "e2-standard-4"
  zone         = "europe-west4-a"
  labels       = local.labels

  boot_disk {
    initialize_params {
      image = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
      size  = 50
    }
  }

  network_interface {
    network = "default"
    access_config {}
  }
}

resource "google_compute_instance" "gpu" {
  enabled      = var.gpu_enabled
  name         = "scheelite"
  machine_type = "g2-standard-8"
  zones        = ["europe-west4-a", "europe-west4-b", "europe-west4-c"]
  labels       = merge(local.labels, { gpu = "l4" })

  boot_disk {
    initialize_params {
      image = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
      size  = 200
      type  = "pd-ssd"
    }
  }

  network_interface {
    network = "default"
    access_config {}
  }

  guest_accelerator {
    type  = "nvidia-l4"
    count = 1
  }

  scheduling {
    on_host_maintenance = "TERMINATE"
    automatic_restart   = true
  }
}

resource "nixos_machine" "cinnabar" {
  target_host = google_compute_instance.cpu.network_interface[0].access_config[0].nat_ip
  flake       = ".#cinnabar"
  tags        = ["all", "controller"]
}

resource "nixos_machine" "web" {
  for_each    = hcloud_server.web
  target_host = each.value.ipv4_address
  flake       = ".#${each.key}"
  tags        = ["all", "web"]

  health_check {
    command = "systemctl is-system-running --wait"
    timeout = 60
  }
}

resource "nixos_machine" "scheelite" {
  target_host             = google_compute_instance.gpu.network_interface[0].access_config[0].nat_ip
  flake                   = ".#scheelite"
  tags                    = ["all", "gpu"]
  require_explicit_update = true
}

output "web_ips" {
  value = { for k, s in hcloud_server.web : k => s.ipv4_address }
}
