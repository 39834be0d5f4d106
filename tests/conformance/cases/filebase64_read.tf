output "result" {
  value = filebase64("${path.module}/files/plain.txt")
}
