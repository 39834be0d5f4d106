output "result" {
  value = fileexists("${path.module}/files/nope.txt")
}
