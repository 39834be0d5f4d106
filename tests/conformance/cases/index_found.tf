output "result" {
  value = index(["a", "b", "c"], "b")
}
