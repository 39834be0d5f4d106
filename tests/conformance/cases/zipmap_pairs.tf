output "result" {
  value = zipmap(["a", "b"], [1, 2])
}
