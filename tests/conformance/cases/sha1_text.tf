output "result" {
  value = sha1("hello")
}
