output "result" {
  value = can(regex("^[a-z]+$", "ABC"))
}
