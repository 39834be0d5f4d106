output "result" {
  value = regex("(\\d+)-(\\d+)", "id 12-34 end")
}
