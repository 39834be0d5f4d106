output "result" {
  value = coalescelist([], ["a"], ["b"])
}
