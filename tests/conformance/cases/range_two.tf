output "result" {
  value = range(1, 4)
}
