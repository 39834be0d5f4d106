output "result" {
  value = setunion(["a", "b"], ["b", "c"])
}
