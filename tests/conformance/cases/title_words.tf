output "result" {
  value = title("hello wide world")
}
