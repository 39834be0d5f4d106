output "result" {
  value = textdecodebase64("SABlAGwAbABvAA==", "UTF-16LE")
}
