output "result" {
  value = flatten([[1, [2, 3]], [], [[4]]])
}
