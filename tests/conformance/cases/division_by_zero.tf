output "result" {
  value = 1 / 0
}
