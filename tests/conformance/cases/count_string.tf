resource "terraform_data" "n" {
  count = "2"
  input = "node-${count.index}"
}
output "result" { value = terraform_data.n[*].input }
