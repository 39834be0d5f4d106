output "result" {
  value = merge({a = 1}, null)
}
