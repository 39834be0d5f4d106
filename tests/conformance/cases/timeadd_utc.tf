output "result" {
  value = timeadd("2024-01-31T23:50:00Z", "1h10m")
}
