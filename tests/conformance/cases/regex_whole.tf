output "result" {
  value = regex("[a-z]+", "123abc456")
}
