output "result" {
  value = ceil(1.2)
}
