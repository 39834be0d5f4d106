output "result" {
  value = substr("hello world", 1, 4)
}
