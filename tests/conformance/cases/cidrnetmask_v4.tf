output "result" {
  value = cidrnetmask("172.16.0.0/12")
}
