locals {
  names = toset(concat(["a"], ["b", "a"]))
}
resource "terraform_data" "n" {
  for_each = local.names
  input    = each.key
}
output "result" { value = keys(terraform_data.n) }
