output "result" {
  value = setintersection(["a", "b", "c"], ["b", "c", "d"])
}
