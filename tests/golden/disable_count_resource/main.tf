
variable "n" {
  type    = number
  default = 2
}
variable "on" {
  type    = bool
  default = true
}
resource "hcloud_ssh_key" "admin" {
  name       = "admin"
  public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb8Kw3WbW0oXqZl2m9Lx1T6y2s3Q0i6p8m0S0bVY0xE a@b"
}
resource "hcloud_server" "node" {
  count       = var.n
  enabled     = var.on
  name        = "node-${count.index}"
  server_type = "cx22"
  image       = "ubuntu-24.04"
  ssh_keys    = [hcloud_ssh_key.admin.name]
  labels      = { role = "node" }
}
resource "nixos_machine" "node" {
  count       = var.n
  target_host = hcloud_server.node[count.index].ipv4_address
  flake       = ".#node-${count.index}"
  tags        = ["all"]
}
