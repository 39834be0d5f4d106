output "result" {
  value = jsonencode({b = [1, "x", true, null], a = {c = 0.5}})
}
