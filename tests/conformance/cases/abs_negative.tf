output "result" {
  value = abs(-3.5)
}
