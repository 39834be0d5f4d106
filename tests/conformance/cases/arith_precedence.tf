output "result" {
  value = 2 + 3 * 4 - 8 / 2 % 3
}
