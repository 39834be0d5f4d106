output "result" {
  value = floor(-1.2)
}
