output "result" {
  value = cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)
}
