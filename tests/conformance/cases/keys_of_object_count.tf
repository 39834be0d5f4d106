output "result" {
  value = length(keys({x = 1, y = [1, 2]}))
}
