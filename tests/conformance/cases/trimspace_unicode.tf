output "result" {
  value = trimspace("\u00a0x\u00a0")
}
