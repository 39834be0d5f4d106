output "result" {
  value = 1 / 3
}
