output "result" {
  value = 1e3 + 2.5e-1
}
