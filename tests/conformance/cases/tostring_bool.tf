output "result" {
  value = tostring(true)
}
