output "result" {
  value = tobool("true")
}
