output "result" {
  value = format("%d", "x")
}
