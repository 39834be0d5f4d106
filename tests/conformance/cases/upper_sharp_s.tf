output "result" {
  value = upper("straße")
}
