output "result" {
  value = sha256("hello")
}
