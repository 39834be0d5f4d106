output "result" {
  value = file("${path.module}/files/plain.txt")
}
