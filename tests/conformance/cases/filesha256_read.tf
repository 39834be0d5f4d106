output "result" {
  value = filesha256("${path.module}/files/plain.txt")
}
