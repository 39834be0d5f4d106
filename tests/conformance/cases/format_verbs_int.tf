output "result" {
  value = format("%d|%5d|%-5d|%05d|%+d", 42, 42, 42, 42, 42)
}
