output "result" {
  value = true ? [1] : ["a"]
}
