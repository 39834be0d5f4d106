output "result" {
  value = replace("hello world", "/o(.)/", "0$1")
}
