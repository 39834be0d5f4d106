output "result" {
  value = formatlist("%s=%d", ["a", "b"], [1, 2])
}
