output "result" {
  value = reverse([1, 2, 3])
}
