output "result" {
  value = base64encode("Hello, World")
}
