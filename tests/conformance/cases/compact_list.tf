output "result" {
  value = compact(["a", "", "b", null])
}
