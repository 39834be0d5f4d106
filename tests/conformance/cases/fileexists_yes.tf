output "result" {
  value = fileexists("${path.module}/files/plain.txt")
}
