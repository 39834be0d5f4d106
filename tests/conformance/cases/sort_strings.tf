output "result" {
  value = sort(["b", "a", "10", "9"])
}
