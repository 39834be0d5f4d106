output "result" {
  value = strcontains("hello", "ll")
}
