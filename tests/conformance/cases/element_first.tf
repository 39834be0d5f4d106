output "result" {
  value = element(["a", "b", "c"], 0)
}
