variable "n" {
  type    = number
  default = "12"
}
variable "l" {
  type    = list(string)
  default = [1, true, "x"]
}
output "result" { value = [var.n + 1, var.l] }
