output "result" {
  value = 1.1 * 3
}
