output "result" {
  value = [for x in [1, 2, 3] : x * 2]
}
