output "result" {
  value = trimsuffix("helloworld", "world")
}
