output "result" {
  value = filebase64sha512("${path.module}/files/plain.txt")
}
