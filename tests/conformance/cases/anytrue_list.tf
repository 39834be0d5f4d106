output "result" {
  value = anytrue([false, false])
}
