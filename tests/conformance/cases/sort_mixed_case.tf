output "result" {
  value = sort(["b", "B", "a", "A"])
}
