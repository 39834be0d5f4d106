output "result" {
  value = chomp("hello\n\n")
}
