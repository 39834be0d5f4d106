output "result" {
  value = [true && false, true || false, !true]
}
