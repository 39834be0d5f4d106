output "result" {
  value = 0.1 + 0.2
}
