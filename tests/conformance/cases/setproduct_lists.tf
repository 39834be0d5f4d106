output "result" {
  value = setproduct(["a", "b"], [1, 2])
}
