output "result" {
  value = basename("/a/b/c.txt")
}
