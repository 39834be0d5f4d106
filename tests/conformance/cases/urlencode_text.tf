output "result" {
  value = urlencode("a b&c=d/é")
}
