output "result" {
  value = lower("ÀÉÎ ΣΑΣ")
}
