output "result" {
  value = range(10, 0, -3)
}
