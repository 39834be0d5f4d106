output "result" {
  value = contains(["a", "b"], "b")
}
