output "result" {
  value = upper("ǆemal éa")
}
