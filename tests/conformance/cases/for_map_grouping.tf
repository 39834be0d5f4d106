output "result" {
  value = {for s in ["a1", "b1", "a2"] : substr(s, 0, 1) => s...}
}
