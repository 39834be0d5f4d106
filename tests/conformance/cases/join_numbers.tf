output "result" {
  value = join("-", [1, 2.5, true])
}
