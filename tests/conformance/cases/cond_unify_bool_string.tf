output "result" {
  value = false ? "x" : true
}
