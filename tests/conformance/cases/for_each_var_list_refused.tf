variable "names" {
  type    = list(string)
  default = ["a", "b"]
}
resource "terraform_data" "n" {
  for_each = var.names
  input    = each.key
}
output "result" { value = length(terraform_data.n) }
