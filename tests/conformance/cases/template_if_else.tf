output "result" {
  value = "%{ if true }yes%{ else }no%{ endif }"
}
