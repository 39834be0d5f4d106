output "result" {
  value = join("/", reverse(split(".", "a.b.c")))
}
