output "result" {
  value = one(["x"])
}
