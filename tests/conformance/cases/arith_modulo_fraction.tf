output "result" {
  value = 5.5 % 2
}
