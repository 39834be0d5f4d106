output "result" {
  value = parseint("ff", 16)
}
