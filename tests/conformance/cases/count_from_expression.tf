locals {
  replicas = 3
}
resource "terraform_data" "n" {
  count = local.replicas - 1
  input = count.index * 10
}
output "result" { value = [for d in terraform_data.n : d.input] }
