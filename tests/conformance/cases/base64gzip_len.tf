output "result" {
  value = length(base64gzip("hello"))
}
