variable "server" {
  type = object({
    name   = string
    size   = optional(string, "cx22")
    labels = optional(map(string), {})
    count  = optional(number)
  })
  default = { name = "web" }
}
output "result" { value = var.server }
