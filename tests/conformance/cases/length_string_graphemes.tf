output "result" {
  value = length("e\u0301x")
}
