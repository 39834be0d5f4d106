output "result" {
  value = -1.5 + 0.25
}
