output "result" {
  value = dirname("/a/b/c.txt")
}
