output "result" {
  value = replace("a-b-c", "-", "_")
}
