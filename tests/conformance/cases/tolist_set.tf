output "result" {
  value = tolist(toset(["b", "a", "b"]))
}
