output "result" {
  value = regex("(?P<major>\\d+)\\.(?P<minor>\\d+)", "v1.15")
}
