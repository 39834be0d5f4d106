output "result" {
  value = "$${literal} %%{literal}"
}
