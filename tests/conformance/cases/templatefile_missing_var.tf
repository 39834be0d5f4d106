output "result" {
  value = templatefile("${path.module}/files/greeting.tftpl", {name = "x"})
}
