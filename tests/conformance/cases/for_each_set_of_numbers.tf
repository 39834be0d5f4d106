resource "terraform_data" "n" {
  for_each = toset([1, 2])
  input    = each.key
}
output "result" { value = keys(terraform_data.n) }
