output "result" {
  value = max([4, 9, 2]...)
}
