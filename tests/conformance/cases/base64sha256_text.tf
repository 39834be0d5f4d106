output "result" {
  value = base64sha256("hello")
}
