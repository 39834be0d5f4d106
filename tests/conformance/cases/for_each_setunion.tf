resource "terraform_data" "n" {
  for_each = setunion(["a"], ["c", "b"])
  input    = each.key
}
output "result" { value = keys(terraform_data.n) }
