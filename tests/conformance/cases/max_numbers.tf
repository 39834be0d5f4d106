output "result" {
  value = max(3, 1.5, 2)
}
