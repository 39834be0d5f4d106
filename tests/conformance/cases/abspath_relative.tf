output "result" {
  value = basename(abspath("files/plain.txt"))
}
