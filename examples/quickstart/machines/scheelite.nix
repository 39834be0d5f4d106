# scheelite: GPU node (Compute Engine, on while var.gpu)
{
  version = "1";
  motd = "scheelite: GPU node (Compute Engine, on while var.gpu)";
}
