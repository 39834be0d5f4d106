output "result" {
  value = yamlencode([[1, 2], [], [[3]]])
}
