#!/bin/sh
# switch-to-configuration of the quickstart's systems: records the activation, points /run/current-system at
# this system, shows its motd, and keeps sshd running (it is part of every configuration).
self=$(dirname "$(dirname "$(readlink -f "$0")")")
action="$1"
mkdir -p /run/reconciler-test
echo "$action $self" >> /run/reconciler-test/activations
case "$action" in
  boot) exit 0 ;;
  switch|test) ;;
  *) echo "usage: switch-to-configuration boot|switch|test" >&2; exit 1 ;;
esac
ln -sfn "$self" /run/current-system.new && mv -T /run/current-system.new /run/current-system
cp "$self/etc/motd" /run/motd
if ! { [ -e /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; }; then
  /usr/sbin/sshd -f /etc/ssh/sshd_config
fi
