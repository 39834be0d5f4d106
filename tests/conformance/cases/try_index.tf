output "result" {
  value = try(["a"][3], "none")
}
