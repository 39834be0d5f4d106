output "result" {
  value = substr("hello world", -5, -1)
}
