output "result" {
  value = 9007199254740993 + 0
}
