output "result" {
  value = length([1, 2, 3])
}
