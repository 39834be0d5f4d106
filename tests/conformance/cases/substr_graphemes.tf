output "result" {
  value = substr("e\u0301clair", 0, 2)
}
