variable "size" {
  type    = string
  default = "huge"
  validation {
    condition     = contains(["small", "large"], var.size)
    error_message = "Size must be small or large."
  }
}
output "result" { value = var.size }
