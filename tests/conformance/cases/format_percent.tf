output "result" {
  value = format("100%% of %s", "it")
}
