output "result" {
  value = cidrhost("10.0.0.0/30", 4)
}
