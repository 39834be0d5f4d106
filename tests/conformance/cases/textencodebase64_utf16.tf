output "result" {
  value = textencodebase64("Hello", "UTF-16LE")
}
