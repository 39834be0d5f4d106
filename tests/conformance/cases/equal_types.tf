output "result" {
  value = [1 == 1.0, "1" == 1, null == null, [1] == [1], {a = 1} == {a = 1}]
}
