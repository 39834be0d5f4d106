output "result" {
  value = matchkeys(["i-1", "i-2", "i-3"], ["us", "eu", "us"], ["us"])
}
