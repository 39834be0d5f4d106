# cinnabar: zerotier controller (Hetzner)
{
  version = "1";
  motd = "cinnabar: zerotier controller (Hetzner)";
}
