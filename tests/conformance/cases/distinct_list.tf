output "result" {
  value = distinct(["a", "b", "a", "c", "b"])
}
