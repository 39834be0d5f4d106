output "result" {
  value = cidrsubnet("10.0.0.0/16", 8, 2)
}
