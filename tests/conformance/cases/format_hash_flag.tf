output "result" {
  value = format("%#x %#o", 255, 8)
}
