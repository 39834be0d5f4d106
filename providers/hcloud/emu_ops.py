"""What the emulator does for each mutating API call: validate as the API does, change the world, start the
action that finishes the job on the emulated clock, and answer with the documented JSON.

Every function runs under the world's lock (the HTTP layer holds it) and raises `ApiError` for an error
answer: `invalid_input` (also for unknown body fields, unknown firewalls and server types no longer
orderable), `uniqueness_error`, `resource_unavailable`, `placement_error`, `resource_limit_exceeded`,
`locked` (a write while an action runs on the server), `conflict`, `protected`, `server_not_stopped`,
`invalid_server_type`, `not_found`.
"""

from __future__ import annotations

from typing import Any

from providers.hcloud.emu_model import (
    ActionRec,
    ApiError,
    ServerRec,
    SshKeyRec,
    invalid_input,
    render_ssh_key,
)
from providers.hcloud.emu_world import HOSTNAME, World, check_labels, fingerprint

SERVER_COMMANDS = {  # API path segment -> action command
    "poweron": "start_server", "poweroff": "stop_server", "shutdown": "shutdown_server",
    "reboot": "reboot_server", "reset": "reset_server", "change_type": "change_server_type",
    "enable_backup": "enable_backup", "disable_backup": "disable_backup",
}
STATUS_DURING = {"start_server": "starting", "stop_server": "stopping", "shutdown_server": "stopping",
                 "reboot_server": "starting", "reset_server": "starting", "change_server_type": "migrating"}
BODY_FIELDS = {  # what each request body may carry, from the API reference
    "create_server": {"name", "server_type", "image", "location", "datacenter", "start_after_create", "ssh_keys",
                      "volumes", "networks", "firewalls", "user_data", "labels", "automount", "public_net",
                      "placement_group"},
    "update_server": {"name", "labels"},
    "ssh_key": {"name", "public_key", "labels"},
    "change_type": {"server_type", "upgrade_disk"},
    "enable_backup": {"backup_window"},
}
STATUS_AFTER = {"start_server": "running", "stop_server": "off", "shutdown_server": "off",
                "reboot_server": "running", "reset_server": "running", "change_server_type": "off"}


def check_fields(body: dict[str, Any], what: str) -> None:
    unknown = sorted(set(body) - BODY_FIELDS.get(what, set()))
    if unknown:
        raise invalid_input(unknown[0], "unknown field")


def writable(world: World, server: ServerRec, deleting: bool = False) -> None:
    """A write on a server: refused while one of its actions runs, or by the knobs, as the API would."""
    if world.knobs.conflict_writes > 0:
        world.knobs.conflict_writes -= 1
        raise ApiError(409, "conflict", "the resource has changed during the request, please retry")
    if world.knobs.lock_writes > 0:
        world.knobs.lock_writes -= 1
        raise ApiError(423, "locked", "server is locked: another action is running")
    if any(a.command != "delete_server" for a in world.running_actions(server.id)):
        raise ApiError(423, "locked", "server is locked: another action is running")
    if deleting and (server.delete_protected or server.name in world.knobs.protected):
        raise ApiError(423, "protected", "server deletion is protected")


def _unique_name(world: World, name: str, except_id: int | None = None) -> None:
    if any(s.name == name and s.id != except_id for s in world.servers.values()):
        raise ApiError(409, "uniqueness_error", "server name is already used",
                       {"fields": [{"name": "name"}]})


def _capacity(world: World, location: str, server_type: str) -> bool:
    blocked = world.knobs.unavailable.get(location)
    return blocked is None or (bool(blocked) and server_type not in blocked and "*" not in blocked)


def create_server(world: World, body: dict[str, Any]) -> dict[str, Any]:
    check_fields(body, "create_server")
    name = body.get("name")
    if not isinstance(name, str) or not HOSTNAME.match(name):
        raise invalid_input("name", "must be a valid hostname")
    spec = world.catalog.find_type(body.get("server_type"))
    if spec is None:
        raise invalid_input("server_type", f"server type {body.get('server_type')!r} not found")
    today = world.today()
    if not any(spec.orderable(loc, today) for loc in spec.net):
        raise invalid_input("server_type", f"server type {spec.name} is deprecated and no longer available")
    image = world.catalog.find_image(body.get("image"), spec.architecture)
    if image is None:
        raise invalid_input("image", f"image {body.get('image')!r} not found for architecture {spec.architecture}")
    labels = check_labels(body.get("labels"))
    user_data = body.get("user_data")
    if user_data is not None and (not isinstance(user_data, str) or len(user_data.encode()) > 32 * 1024):
        raise invalid_input("user_data", "must be a string of at most 32 KiB")
    keys = [world.resolve_ssh_key(ref).id for ref in body.get("ssh_keys") or []]
    location = body.get("location") or body.get("datacenter", "").split("-")[0] or None
    if location is not None and location not in world.catalog.locations:
        raise invalid_input("location", f"location {location!r} not found")
    if location is not None and location not in spec.net:
        raise ApiError(412, "unsupported_location_for_server_type",
                       f"server type {spec.name} is not available in location {location}")
    if location is not None and not spec.orderable(location, today):
        raise invalid_input("server_type", f"server type {spec.name} is deprecated in {location} and no longer "
                            "available")
    firewalls = [f.get("firewall") if isinstance(f, dict) else None for f in body.get("firewalls") or []]
    for fw in firewalls:
        if not isinstance(fw, int) or fw not in world.knobs.firewalls:
            raise invalid_input("firewalls", f"firewall {fw!r} not found")
    if location is None:
        location = next((loc for loc in spec.net if _capacity(world, loc, spec.name)
                         and spec.orderable(loc, today)), None)
        if location is None:
            raise ApiError(412, "resource_unavailable", f"server type {spec.name} is unavailable in every location")
    elif not _capacity(world, location, spec.name):
        raise ApiError(412, "resource_unavailable",
                       f"server type {spec.name} is currently unavailable in location {location}")
    _unique_name(world, name)
    limit = world.knobs.server_limit
    if limit is not None and len(world.servers) >= limit:
        raise ApiError(403, "resource_limit_exceeded", "server limit exceeded",
                       {"limits": [{"name": "server_limit"}]})
    if world.knobs.placement_error > 0:
        world.knobs.placement_error -= 1
        raise ApiError(412, "placement_error", f"the server could not be placed in {location}")
    public_net = body.get("public_net") or {}
    sid = world.next_id()
    server = ServerRec(sid, name, spec.name, location, image["id"], world.now(), labels,
                       world._take_ipv4(name) if public_net.get("enable_ipv4", True) else None,
                       f"2001:db8:{sid // 65536:x}:{sid % 65536:x}::/64" if public_net.get("enable_ipv6", True)
                       else None, spec.disk, firewalls=[int(f) for f in firewalls if f is not None],
                       ssh_keys=keys, user_data=user_data,
                       ipv4_id=100000 + sid, ipv6_id=200000 + sid)
    world.servers[sid] = server
    start = body.get("start_after_create", True) is not False

    def created(action: ActionRec) -> None:
        if action.status == "error":
            world.release(server)
            world.servers.pop(sid, None)
        elif not start:
            server.status = "off"
        else:
            server.status = "starting"

    def started(action: ActionRec) -> None:
        if sid in world.servers and action.status == "success":
            server.status = "running"

    action = world.new_action("create_server", sid, effect=created)
    next_actions = []
    if start:
        next_actions.append(world.new_action("start_server", sid, start=action.finishes, effect=started))
    now = world.now()
    return {"server": world.render(server), "action": action.render(now),
            "next_actions": [a.render(now) for a in next_actions],
            "root_password": None if keys else f"emulated-{sid}"}


def update_server(world: World, sid: int, body: dict[str, Any]) -> dict[str, Any]:
    check_fields(body, "update_server")
    server = world.server(sid)
    writable(world, server)
    if "name" in body:
        if not isinstance(body["name"], str) or not HOSTNAME.match(body["name"]):
            raise invalid_input("name", "must be a valid hostname")
        _unique_name(world, body["name"], sid)
    labels = check_labels(body["labels"]) if "labels" in body else None
    if "name" in body:
        server.name = body["name"]
    if labels is not None:
        server.labels = labels
    return {"server": world.render(server)}


def delete_server(world: World, sid: int) -> dict[str, Any]:
    server = world.server(sid)
    if server.status == "deleting":
        running = [a for a in world.running_actions(sid) if a.command == "delete_server"]
        if running:
            return {"action": running[0].render(world.now())}
    writable(world, server, deleting=True)
    server.status = "deleting"

    def gone(action: ActionRec) -> None:
        world.release(server)
        world.servers.pop(sid, None)

    return {"action": world.new_action("delete_server", sid, effect=gone).render(world.now())}


def server_action(world: World, sid: int, verb: str, body: dict[str, Any]) -> dict[str, Any]:
    command = SERVER_COMMANDS.get(verb)
    if command is None:
        raise ApiError(404, "not_found", f"unknown server action {verb!r}")
    check_fields(body, verb if verb in BODY_FIELDS else "none")
    server = world.server(sid)
    if server.status == "deleting":
        raise ApiError(423, "locked", "server is locked: another action is running")
    writable(world, server)
    after = STATUS_AFTER.get(command)
    if command == "change_server_type":
        if server.status != "off":
            raise ApiError(412, "server_not_stopped", "server must be stopped before changing its type")
        spec = world.catalog.find_type(body.get("server_type"))
        if spec is None:
            raise invalid_input("server_type", f"server type {body.get('server_type')!r} not found")
        if server.location in spec.net and not spec.orderable(server.location, world.today()):
            raise invalid_input("server_type", f"server type {spec.name} is deprecated in {server.location} and no "
                                "longer available")
        old = world.catalog.find_type(server.server_type)
        upgrade = bool(body.get("upgrade_disk", False))
        if old is not None and (spec.architecture != old.architecture or spec.disk < server.primary_disk_size):
            raise ApiError(422, "invalid_server_type",
                           f"server type {spec.name} does not fit this server (architecture {spec.architecture}, "
                           f"{spec.disk} GB disk; the server has {old.architecture}, {server.primary_disk_size} GB)")
        if server.location not in spec.net:
            raise invalid_input("server_type", f"server type {spec.name} is not available in {server.location}")

        def retyped(action: ActionRec) -> None:
            if action.status == "success":
                server.server_type = spec.name
                if upgrade:
                    server.primary_disk_size = spec.disk
            server.status = "off"

        effect = retyped
    elif command in ("enable_backup", "disable_backup"):
        window = "22-02" if command == "enable_backup" else None

        def backups(action: ActionRec) -> None:
            if action.status == "success":
                server.backup_window = window

        effect = backups
    else:
        before = server.status

        def power(action: ActionRec) -> None:
            server.status = after if action.status == "success" and after else before

        effect = power
    if command in STATUS_DURING:
        server.status = STATUS_DURING[command]
    return {"action": world.new_action(command, sid, effect=effect).render(world.now())}


def create_ssh_key(world: World, body: dict[str, Any]) -> dict[str, Any]:
    check_fields(body, "ssh_key")
    name, public_key = body.get("name"), body.get("public_key")
    if not isinstance(name, str) or not name:
        raise invalid_input("name", "is required")
    if not isinstance(public_key, str) or not public_key.strip():
        raise invalid_input("public_key", "is required")
    fp = fingerprint(public_key)
    labels = check_labels(body.get("labels"))
    for k in world.ssh_keys.values():
        if k.name == name:
            raise ApiError(409, "uniqueness_error", "SSH key with the same name already exists",
                           {"fields": [{"name": "name"}]})
        if k.fingerprint == fp:
            raise ApiError(409, "uniqueness_error", "SSH key with the same fingerprint already exists",
                           {"fields": [{"name": "public_key"}]})
    key = SshKeyRec(world.next_id(), name, public_key.strip(), fp, labels, world.now())
    world.ssh_keys[key.id] = key
    return {"ssh_key": render_ssh_key(key)}


def update_ssh_key(world: World, kid: int, body: dict[str, Any]) -> dict[str, Any]:
    check_fields(body, "ssh_key")
    key = world.ssh_key(kid)
    if "name" in body:
        if any(k.name == body["name"] and k.id != kid for k in world.ssh_keys.values()):
            raise ApiError(409, "uniqueness_error", "SSH key with the same name already exists",
                           {"fields": [{"name": "name"}]})
        key.name = body["name"]
    if "labels" in body:
        key.labels = check_labels(body["labels"])
    return {"ssh_key": render_ssh_key(key)}


def delete_ssh_key(world: World, kid: int) -> None:
    world.ssh_key(kid)
    del world.ssh_keys[kid]
