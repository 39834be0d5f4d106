output "result" {
  value = range(3)
}
