output "result" {
  value = base64sha512("hello")
}
