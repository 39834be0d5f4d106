output "result" {
  value = "n=${null}"
}
