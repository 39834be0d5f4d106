output "result" {
  value = strrev("hello")
}
