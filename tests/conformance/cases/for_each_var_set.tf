variable "names" {
  type    = set(string)
  default = ["b", "a", "b"]
}
resource "terraform_data" "n" {
  for_each = var.names
  input    = upper(each.value)
}
output "result" { value = [for k, v in terraform_data.n : v.input] }
