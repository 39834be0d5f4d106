output "result" {
  value = tomap({a = 1, b = "x"})
}
