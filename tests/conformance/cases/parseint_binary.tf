output "result" {
  value = parseint("-1011", 2)
}
