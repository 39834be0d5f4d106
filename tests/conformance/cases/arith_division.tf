output "result" {
  value = 7 / 2
}
