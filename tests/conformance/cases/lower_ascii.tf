output "result" {
  value = lower("HeLLo")
}
