output "result" {
  value = replace("ab", "/(a)(b)/", "$2$1x$$")
}
