output "result" {
  value = concat([1, 2], [3], [])
}
