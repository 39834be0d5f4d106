output "result" {
  value = [for i, x in ["a", "b"] : "${i}:${x}"]
}
