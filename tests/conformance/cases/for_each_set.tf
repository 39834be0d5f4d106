resource "terraform_data" "n" {
  for_each = toset(["b", "a"])
  input    = "${each.key}=${each.value}"
}
output "result" { value = { for k, v in terraform_data.n : k => v.input } }
