output "result" {
  value = uuidv5("dns", "example.com")
}
