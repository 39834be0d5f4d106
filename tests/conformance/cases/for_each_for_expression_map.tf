locals {
  servers = [{ name = "web", size = "cx22" }, { name = "db", size = "cx32" }]
}
resource "terraform_data" "n" {
  for_each = { for s in local.servers : s.name => s }
  input    = each.value.size
}
output "result" { value = { for k, v in terraform_data.n : k => v.input } }
