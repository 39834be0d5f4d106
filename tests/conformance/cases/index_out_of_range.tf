output "result" {
  value = ["a"][1]
}
