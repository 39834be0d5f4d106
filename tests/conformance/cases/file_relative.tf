output "result" {
  value = file("files/plain.txt")
}
