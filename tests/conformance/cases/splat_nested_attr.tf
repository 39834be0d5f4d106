locals {
  obj     = { present = "here" }
  servers = [{ name = "a", net = { ip = "10.0.0.1" } }, { name = "b", net = { ip = "10.0.0.2" } }]
}
output "result" {
  value = local.servers[*].net.ip
}
