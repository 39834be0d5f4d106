output "result" {
  value = length("🇩🇪ab")
}
