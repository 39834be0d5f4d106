output "result" {
  value = min(3, 1.5, 2)
}
