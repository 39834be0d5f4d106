output "result" {
  value = nonsensitive(sensitive("shown"))
}
