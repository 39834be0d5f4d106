output "result" {
  value = regex("z+", "abc")
}
