output "result" {
  value     = "secret"
  sensitive = true
}
