output "result" {
  value = tostring(1.50)
}
