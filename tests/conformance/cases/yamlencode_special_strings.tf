output "result" {
  value = yamlencode(["tab\there", "quote\"d", "ünïcode", "back\\slash", "trailing space "])
}
