output "result" {
  value = chomp("x\r\n")
}
