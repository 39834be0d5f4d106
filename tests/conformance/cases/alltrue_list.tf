output "result" {
  value = alltrue([true, "true"])
}
