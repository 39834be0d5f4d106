output "result" {
  value = split(",", "")
}
