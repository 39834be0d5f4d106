output "result" {
  value = strrev("ae\u0301")
}
