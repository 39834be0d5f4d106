output "result" {
  value = coalesce(null, "", "b", "c")
}
