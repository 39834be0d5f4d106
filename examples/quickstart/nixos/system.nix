# One machine's "NixOS system": a derivation built with /bin/sh (no nixpkgs), shaped like a NixOS toplevel:
# bin/switch-to-configuration, etc/ (motd, the services the inventory gives it), and its name and version.
# `config` is the machine's file under machines/; `inventory` its entry of inventory.json.
{ name, config, inventory }:
{
  config.system.build.toplevel = builtins.derivation {
    name = "nixos-system-${name}-${config.version}";
    system = "x86_64-linux";
    builder = "/bin/sh";
    switch = builtins.readFile ./switch-to-configuration.sh;
    motd = config.motd;
    services = builtins.toJSON inventory.services;
    args = [ "-c" ''
      /bin/mkdir -p $out/bin $out/etc
      printf '%s' "$switch" > $out/bin/switch-to-configuration
      /bin/chmod 555 $out/bin/switch-to-configuration
      printf '%s\n' "$motd" > $out/etc/motd
      printf '%s\n' "$services" > $out/etc/services.json
      echo ${name} > $out/name
    '' ];
  };
}
