output "result" {
  value = true ? ["a"] : []
}
