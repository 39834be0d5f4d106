output "result" {
  value = "b=${true}"
}
