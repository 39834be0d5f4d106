output "result" {
  value = toset(["c", "a", "c", "b"])
}
