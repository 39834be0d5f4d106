output "result" {
  value = file("${path.module}/files/nope.txt")
}
