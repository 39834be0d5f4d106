output "result" {
  value = indent(2, "a\nb\nc")
}
