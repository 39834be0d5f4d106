# The quickstart fleet: a zerotier-like controller (cinnabar) and a peer (electrum) on Hetzner Cloud, a CPU node
# (galena) and a GPU node (scheelite, only while var.gpu is true) on Compute Engine, NixOS on each from the
# flake in this directory. `reconciler sandbox up` points both providers at local emulators through
# sandbox_override.tf; without it, the blocks below talk to the real clouds.

variable "gpu" {
  type        = bool
  default     = false
  description = "run the GPU node scheelite (off: its VM is destroyed, its identity and vars are kept)"
}

variable "hcloud_token" {
  type      = string
  default   = ""
  sensitive = true
}

variable "ssh_key" {
  type        = string
  default     = ""
  description = "private key that logs into the machines (default: the sandbox's own)"
}

locals {
  ssh_key = var.ssh_key != "" ? var.ssh_key : "${path.module}/.reconciler/sandbox/hosts/id_ed25519"
  labels  = { fleet = "quickstart" }
}

provider "hcloud" {
  token = var.hcloud_token
}

provider "google" {
  project = "quickstart-fleet"
  region  = "europe-west4"
  zone    = "europe-west4-a"
}

resource "hcloud_ssh_key" "admin" {
  name       = "quickstart-admin"
  public_key = file("${local.ssh_key}.pub")
}

resource "hcloud_server" "cinnabar" {
  name        = "cinnabar"
  server_type = "cx23"
  image       = "debian-12"
  location    = "fsn1"
  ssh_keys    = [hcloud_ssh_key.admin.name]
  labels      = merge(local.labels, { role = "controller" })
}

resource "hcloud_server" "electrum" {
  name        = "electrum"
  server_type = "cx33"
  image       = "debian-12"
  location    = "nbg1"
  ssh_keys    = [hcloud_ssh_key.admin.name]
  labels      = merge(local.labels, { role = "peer" })
}

resource "google_compute_instance" "galena" {
  name         = "galena"
  machine_type = "e2-standard-4"
  zone         = "europe-west4-a"
  labels       = merge(local.labels, { role = "cpu" })
  metadata     = { ssh-keys = "root:${file("${local.ssh_key}.pub")}" }

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
      size  = 50
    }
  }

  network_interface {
    network = "default"
    access_config {}
  }
}

resource "google_compute_instance" "scheelite" {
  enabled      = var.gpu
  name         = "scheelite"
  machine_type = "n1-standard-8"
  zones        = ["europe-west4-a", "europe-west4-b", "europe-west4-c"]
  labels       = merge(local.labels, { role = "gpu" })
  metadata     = { ssh-keys = "root:${file("${local.ssh_key}.pub")}" }

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
      size  = 100
    }
  }

  network_interface {
    network = "default"
    access_config {}
  }

  guest_accelerator {
    type  = "nvidia-tesla-t4"
    count = 1
  }

  scheduling {
    on_host_maintenance = "TERMINATE"
    automatic_restart   = true
  }
}

# NixOS on each: installed with nixos-anywhere (the sandbox's installer under `sandbox up`), then updated
# over SSH with the host key pinned at install.

resource "nixos_machine" "cinnabar" {
  target_host          = hcloud_server.cinnabar.ipv4_address
  ssh_private_key_file = local.ssh_key
  flake                = ".#cinnabar"
  tags                 = ["all"]
}

resource "nixos_machine" "electrum" {
  target_host          = hcloud_server.electrum.ipv4_address
  ssh_private_key_file = local.ssh_key
  flake                = ".#electrum"
  tags                 = ["all"]
}

resource "nixos_machine" "galena" {
  target_host          = google_compute_instance.galena.network_interface[0].access_config[0].nat_ip
  ssh_private_key_file = local.ssh_key
  flake                = ".#galena"
  tags                 = ["all"]
}

resource "nixos_machine" "scheelite" {
  # dormant while the GPU node is off: it references a disabled resource
  target_host          = google_compute_instance.scheelite.network_interface[0].access_config[0].nat_ip
  ssh_private_key_file = local.ssh_key
  flake                = ".#scheelite"
  tags                 = ["all"]
}

output "addresses" {
  value = {
    cinnabar = hcloud_server.cinnabar.ipv4_address
    electrum = hcloud_server.electrum.ipv4_address
    galena   = google_compute_instance.galena.network_interface[0].access_config[0].nat_ip
  }
}
