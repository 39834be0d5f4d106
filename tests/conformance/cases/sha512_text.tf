output "result" {
  value = sha512("hello")
}
