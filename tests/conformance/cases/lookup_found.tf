output "result" {
  value = lookup({a = "x"}, "a", "d")
}
