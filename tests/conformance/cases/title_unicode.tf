output "result" {
  value = title("élan vital_x")
}
