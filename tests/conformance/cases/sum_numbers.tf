output "result" {
  value = sum([1, 2.5, 3])
}
