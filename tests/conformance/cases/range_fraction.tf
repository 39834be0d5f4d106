output "result" {
  value = range(0, 1, 0.25)
}
