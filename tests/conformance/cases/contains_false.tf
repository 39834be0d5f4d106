output "result" {
  value = contains(["a", "b"], "c")
}
