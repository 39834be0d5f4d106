output "result" {
  value = trimprefix("helloworld", "hello")
}
