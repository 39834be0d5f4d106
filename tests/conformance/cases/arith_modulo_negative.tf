output "result" {
  value = -7 % 3
}
