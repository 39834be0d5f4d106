output "result" {
  value = tonumber("4x")
}
