output "result" {
  value = md5("hello")
}
