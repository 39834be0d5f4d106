output "result" {
  value = format("%s|%q|%10s|%-10s|%.2s", "ab", "hi", "r", "l", "trunc")
}
