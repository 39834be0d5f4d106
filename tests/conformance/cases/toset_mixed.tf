output "result" {
  value = toset([1, "1", 2])
}
