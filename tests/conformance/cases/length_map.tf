output "result" {
  value = length({a = 1, b = 2})
}
