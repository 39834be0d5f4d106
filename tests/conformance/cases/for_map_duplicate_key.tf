output "result" {
  value = {for s in ["a", "a"] : s => 1}
}
