variable "x" {
  type    = any
  default = { a = [1, 2], b = "c" }
}
output "result" { value = var.x.a[1] }
