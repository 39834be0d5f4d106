resource "terraform_data" "n" {
  for_each = ["a", "b"]
  input    = each.value
}
output "result" { value = length(terraform_data.n) }
