variable "s" {
  type    = set(string)
  default = ["b", "a", "b"]
}
output "result" { value = var.s }
