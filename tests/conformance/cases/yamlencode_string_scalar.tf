output "result" {
  value = yamlencode("hello")
}
