output "result" {
  value = element(["a"], -1)
}
