output "result" {
  value = signum(-7)
}
