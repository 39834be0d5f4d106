variable "pw" {
  type      = string
  default   = "hunter2"
  sensitive = true
}
output "result" { value = nonsensitive(var.pw) }
