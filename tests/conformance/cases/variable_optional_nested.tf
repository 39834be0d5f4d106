variable "nodes" {
  type = list(object({
    name = string
    disk = optional(object({
      size = optional(number, 20)
      type = optional(string, "pd-ssd")
    }), {})
  }))
  default = [{ name = "a" }, { name = "b", disk = { size = 50 } }]
}
output "result" { value = var.nodes }
