output "result" {
  value = coalesce(null, "")
}
