output "result" {
  value = jsondecode("{\"a\": [1, 2.5, \"x\"], \"b\": null}")
}
