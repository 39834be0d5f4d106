resource "terraform_data" "n" {
  count = 2
  input = { name = "n${count.index}" }
}
output "result" { value = terraform_data.n[*].input.name }
