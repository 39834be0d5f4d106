output "result" {
  value = regex("^[a-z]+\\z", "abc")
}
