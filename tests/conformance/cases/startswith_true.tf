output "result" {
  value = startswith("hello", "he")
}
