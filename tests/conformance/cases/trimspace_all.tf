output "result" {
  value = trimspace("  \n\tpadded text \n ")
}
