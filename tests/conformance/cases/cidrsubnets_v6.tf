output "result" {
  value = cidrsubnets("fd00::/48", 16, 16)
}
