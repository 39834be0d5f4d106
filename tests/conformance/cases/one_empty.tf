output "result" {
  value = one([])
}
