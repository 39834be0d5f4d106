output "result" {
  value = yamlencode([0.5, -3, 1e21, 123456789012])
}
