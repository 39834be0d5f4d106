output "result" {
  value = [1 < 2, 2 <= 2, 3 > 4, "10" >= 9]
}
