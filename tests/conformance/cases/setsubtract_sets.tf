output "result" {
  value = setsubtract(["a", "b", "c"], ["b"])
}
