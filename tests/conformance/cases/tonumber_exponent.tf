output "result" {
  value = tonumber("1e3")
}
