output "result" {
  value = 1 > 2 ? "a" : 2 > 1 ? "b" : "c"
}
