output "result" {
  value = 12345678901234567890 * 10
}
