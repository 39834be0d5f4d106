output "result" {
  value = -0
}
