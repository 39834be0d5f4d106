output "result" {
  value = coalesce(1, "a")
}
