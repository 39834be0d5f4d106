output "result" {
  value = "${path.module}/files/plain.txt"
}
