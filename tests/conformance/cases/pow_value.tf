output "result" {
  value = pow(2, 10)
}
