output "result" {
  value = cidrsubnet("10.0.0.0/30", 4, 1)
}
