resource "terraform_data" "n" {
  count = 1.5
  input = "x"
}
output "result" { value = length(terraform_data.n) }
