output "result" {
  value = trim("?!hello?!", "!?")
}
