resource "terraform_data" "n" {
  for_each = { web = "cx22", db = "cx32" }
  input    = "${each.key}:${each.value}"
}
output "result" { value = [for k, v in terraform_data.n : v.input] }
