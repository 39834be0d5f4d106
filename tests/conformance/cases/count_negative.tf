resource "terraform_data" "n" {
  count = -1
  input = "x"
}
output "result" { value = length(terraform_data.n) }
