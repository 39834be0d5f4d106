output "result" {
  value = "true" ? "yes" : "no"
}
