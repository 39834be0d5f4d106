output "result" {
  value = filemd5("${path.module}/files/plain.txt")
}
