locals {
  names = ["a", "b"]
}
resource "terraform_data" "n" {
  for_each = local.names
  input    = each.key
}
output "result" { value = length(terraform_data.n) }
