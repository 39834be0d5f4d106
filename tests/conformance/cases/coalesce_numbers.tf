output "result" {
  value = coalesce(null, 2, 3)
}
