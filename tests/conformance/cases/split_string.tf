output "result" {
  value = split(",", "a,b,,c")
}
