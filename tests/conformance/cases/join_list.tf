output "result" {
  value = join(", ", ["a", "b", "c"])
}
