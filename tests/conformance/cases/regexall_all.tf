output "result" {
  value = regexall("[0-9]+", "a1b22c333")
}
