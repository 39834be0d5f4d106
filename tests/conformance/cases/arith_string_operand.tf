output "result" {
  value = "3" + 4
}
