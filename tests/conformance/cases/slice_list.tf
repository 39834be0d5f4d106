output "result" {
  value = slice(["a", "b", "c", "d"], 1, 3)
}
