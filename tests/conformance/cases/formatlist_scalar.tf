output "result" {
  value = formatlist("host-%s", ["a", "b"])
}
