output "result" {
  value = format("%v %v %v %t", "s", 1.5, true, false)
}
