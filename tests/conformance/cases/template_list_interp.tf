output "result" {
  value = "l=${[1]}"
}
