# electrum: zerotier peer (Hetzner)
{
  version = "1";
  motd = "electrum: zerotier peer (Hetzner)";
}
