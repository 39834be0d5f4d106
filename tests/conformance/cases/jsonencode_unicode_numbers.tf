output "result" {
  value = jsonencode({ u = "ü€", n = 1.5, big = 1e21, neg = -0.25 })
}
