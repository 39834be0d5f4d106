variable "n" {
  type    = number
  default = "twelve"
}
output "result" { value = var.n }
