output "result" {
  value = 1e300 * 10
}
