output "result" {
  value = jsonencode("<a&b>")
}
