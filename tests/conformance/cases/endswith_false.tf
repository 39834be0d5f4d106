output "result" {
  value = endswith("hello", "he")
}
