output "result" {
  value = false ? "x" : null
}
