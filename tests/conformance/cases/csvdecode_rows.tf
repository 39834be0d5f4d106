output "result" {
  value = csvdecode("a,b\n1,2\n3,4\n")
}
