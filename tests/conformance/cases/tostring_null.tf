output "result" {
  value = tostring(null)
}
