output "result" {
  value = lookup({a = "x"}, "b", "d")
}
