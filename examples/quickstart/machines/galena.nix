# galena: CPU node (Compute Engine)
{
  version = "1";
  motd = "galena: CPU node (Compute Engine)";
}
