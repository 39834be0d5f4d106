output "result" {
  value = cidrsubnet("10.1.2.3/16", 8, 1)
}
