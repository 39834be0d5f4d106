output "result" {
  value = base64decode("SGVsbG8sIFdvcmxk")
}
