output "result" {
  value = log(16, 2)
}
