output "result" {
  value = sort([10, 9, 1])
}
