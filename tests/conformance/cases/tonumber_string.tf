output "result" {
  value = tonumber("42.5")
}
