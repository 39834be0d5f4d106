locals {
  servers = { a = { size = 1 }, b = { size = 2 } }
}
resource "terraform_data" "n" {
  for_each = local.servers
  input    = each.value.size * 100
}
output "result" { value = terraform_data.n["b"].input }
