output "result" {
  value = timeadd("2024-01-31T23:50:00+02:00", "-90s")
}
