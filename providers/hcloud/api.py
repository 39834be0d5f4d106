"""The provider's only door to Hetzner Cloud: the official `hcloud` client, built lazily (no network and no
token needed until the first call), sending through our paced, retrying transport, and answering with
plain frozen views instead of SDK objects. Every method is blocking; the provider runs them in threads.
"""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from providers.hcloud.errors import TOKEN_HINT, api_error, gave_up
from providers.hcloud.settings import HcloudSettings
from providers.hcloud.transport import GaveUp, PacedAdapter, TokenBucket
from providers.hcloud.views import ActionView, Created, ServerView, SshKeyView
from reconciler.errors import ProviderError

if TYPE_CHECKING:
    from hcloud import Client

T = TypeVar("T")


@dataclass
class HcloudApi:
    settings: HcloudSettings
    rng: random.Random = field(default_factory=random.Random)
    _client: Client | None = None

    def __post_init__(self) -> None:
        s = self.settings
        self.bucket = TokenBucket()
        self.adapter = PacedAdapter(self.bucket, base=s.retry_base, cap=s.retry_cap, rng=self.rng)

    # ------------------------------------------------------------------------------------ plumbing
    def client(self) -> Client:
        if self._client is None:
            if not self.settings.token:
                raise ProviderError("no Hetzner Cloud API token is configured", hint=TOKEN_HINT, code="unauthorized")
            from hcloud import Client

            # hcloud-python warns of the API's deprecated fields (a server's datacenter, a type's traffic); they
            # are not the user's to act on. Ignored once here for hcloud and this package: `catch_warnings` around
            # each call was not thread-safe (it swaps the process's filter list) and cost every request.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(providers\.)?hcloud(\.|$)")
            client = Client(token=self.settings.token, api_endpoint=self.settings.endpoint,
                            application_name="reconciler", poll_interval=self.settings.poll_interval,
                            timeout=self.settings.request_timeout)
            # hcloud-python offers no public parameter for a requests Session; its ClientBase keeps the one it
            # made. We only mount our transport adapter on it with requests' public Session.mount; nothing of
            # the client is replaced or patched.
            session: requests.Session = client._client._session
            session.mount("https://", self.adapter)
            session.mount("http://", self.adapter)
            # With `trust_env` requests reads proxies, the CA bundle and ~/.netrc from the environment on every
            # request (a sixth of a create's CPU); read them once here instead, with requests' own helpers, so a
            # proxy or a CA bundle still applies (and a ~/.netrc entry cannot replace the bearer token).
            session.proxies.update(requests.utils.get_environ_proxies(self.settings.endpoint))
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                session.verify = bundle
            session.trust_env = False
            self._client = client
        return self._client

    def call(self, what: str, fn: Callable[[Client], T]) -> T:
        from hcloud import APIException

        client = self.client()
        try:
            return fn(client)
        except APIException as e:
            raise api_error(e.code, e.message, e.details, what) from None
        except GaveUp as e:
            raise gave_up(e.status, e.code, str(e), what) from None
        except requests.RequestException as e:
            raise gave_up(None, None, str(e), what) from None

    def close(self) -> None:
        self.adapter.close()

    # ------------------------------------------------------------------------------------ servers
    def list_servers(self, selector: str) -> list[ServerView]:
        return self.call("list servers", lambda c: [server_view(s) for s in c.servers.get_all(
            label_selector=selector)])

    def get_server(self, sid: int) -> ServerView | None:
        try:
            return self.call(f"read server {sid}", lambda c: server_view(c.servers.get_by_id(sid)))
        except ProviderError as e:
            if e.code == "not_found":
                return None
            raise

    def server_by_name(self, name: str) -> ServerView | None:
        found = self.call(f'find server "{name}"', lambda c: c.servers.get_by_name(name))
        return server_view(found) if found is not None else None

    def create_server(self, what: str, body: Mapping[str, Any]) -> Created:
        """`POST /servers` through the client's public `request`, with the body hcloud's `ServersClient.create`
        sends, its answer read into plain views instead of the typed server, type, location, image and actions
        `ServersClient.create` builds. Every create of an apply goes through this one process, and the apply
        cannot finish before its last create is answered: in the 200-server apply bench the walk went from a
        mean 1.108 to 1.097 times the critical path (five interleaved pairs)."""
        net = body["public_net"]
        data: dict[str, Any] = {"name": body["name"], "server_type": _ref(body["server_type"]),
                                "start_after_create": True, "image": _ref(body["image"])}
        if body.get("location"):
            data["location"] = body["location"]
        if body["ssh_keys"]:
            data["ssh_keys"] = [_ref(k) for k in body["ssh_keys"]]
        if body["firewall_ids"]:
            data["firewalls"] = [{"firewall": int(f)} for f in body["firewall_ids"]]
        if body.get("user_data") is not None:
            data["user_data"] = body["user_data"]
        data["labels"] = dict(body["labels"])
        data["public_net"] = {"enable_ipv4": net["ipv4_enabled"], "enable_ipv6": net["ipv6_enabled"]}

        def create(c: Client) -> Created:
            answer = c.request("POST", "/servers", json=data)
            ids = [int(answer["action"]["id"])] + [int(a["id"]) for a in answer.get("next_actions") or []]
            return Created(server_view_json(answer["server"]), tuple(ids))

        return self.call(what, create)

    def update_server(self, what: str, sid: int, name: str, labels: Mapping[str, str]) -> ServerView:
        from hcloud.servers import Server

        return self.call(what, lambda c: server_view(c.servers.update(Server(id=sid), name=name, labels=dict(labels))))

    def delete_server(self, what: str, sid: int) -> int | None:
        """The delete action's id, or None when the server is already gone."""
        from hcloud.servers import Server

        try:
            return self.call(what, lambda c: int(c.servers.delete(Server(id=sid)).data_model.id))
        except ProviderError as e:
            if e.code == "not_found":
                return None
            raise

    def server_action(self, what: str, sid: int, verb: str, **kwargs: Any) -> int:
        """Start `verb` (power_on, power_off, change_type, enable_backup, disable_backup); the action id."""
        from hcloud.server_types import ServerType
        from hcloud.servers import Server

        def run(c: Client) -> int:
            if verb == "change_type":
                action = c.servers.change_type(Server(id=sid), ServerType(name=kwargs["server_type"]),
                                               upgrade_disk=kwargs["upgrade_disk"])
            else:
                action = getattr(c.servers, verb)(Server(id=sid))
            return int(action.data_model.id)

        return self.call(what, run)

    def running_actions(self, sid: int) -> list[int]:
        from hcloud.servers import Server

        return self.call(f"list actions of server {sid}", lambda c: [
            int(a.data_model.id) for a in c.servers.get_actions_list(Server(id=sid), status=["running"]).actions])

    # ------------------------------------------------------------------------------------ actions
    def get_actions(self, ids: Sequence[int]) -> list[ActionView]:
        """Up to 25 actions in one request (`GET /actions?id=..&id=..`; the API takes no more ids at once)."""
        def get(c: Client) -> list[ActionView]:
            payload = c.request("GET", "/actions", params={"id": list(ids), "per_page": 25})
            return [ActionView(int(a["id"]), a["command"], a["status"], (a.get("error") or {}).get("message"),
                               int(a.get("progress") or 0)) for a in payload["actions"]]

        return self.call("poll actions", get)

    # ------------------------------------------------------------------------------------ ssh keys
    def list_ssh_keys(self, selector: str) -> list[SshKeyView]:
        return self.call("list SSH keys", lambda c: [key_view(k) for k in c.ssh_keys.get_all(
            label_selector=selector)])

    def get_ssh_key(self, kid: int) -> SshKeyView | None:
        try:
            return self.call(f"read SSH key {kid}", lambda c: key_view(c.ssh_keys.get_by_id(kid)))
        except ProviderError as e:
            if e.code == "not_found":
                return None
            raise

    def find_ssh_key(self, name: str, fingerprint: str | None) -> SshKeyView | None:
        def find(c: Client) -> SshKeyView | None:
            found = c.ssh_keys.get_by_name(name)
            if found is None and fingerprint:
                found = c.ssh_keys.get_by_fingerprint(fingerprint)
            return key_view(found) if found is not None else None

        return self.call(f'find SSH key "{name}"', find)

    def create_ssh_key(self, what: str, name: str, public_key: str, labels: Mapping[str, str]) -> SshKeyView:
        return self.call(what, lambda c: key_view(c.ssh_keys.create(name=name, public_key=public_key,
                                                                    labels=dict(labels))))

    def update_ssh_key(self, what: str, kid: int, name: str, labels: Mapping[str, str]) -> SshKeyView:
        from hcloud.ssh_keys import SSHKey

        return self.call(what, lambda c: key_view(c.ssh_keys.update(SSHKey(id=kid), name=name, labels=dict(labels))))

    def delete_ssh_key(self, what: str, kid: int) -> None:
        from hcloud.ssh_keys import SSHKey

        try:
            self.call(what, lambda c: c.ssh_keys.delete(SSHKey(id=kid)))
        except ProviderError as e:
            if e.code != "not_found":
                raise

    # ------------------------------------------------------------------------------------ catalogue
    def server_types(self) -> list[dict[str, Any]]:
        """Every server type as plain JSON in the API's shape (prices, per-location deprecations)."""
        def get(c: Client) -> list[dict[str, Any]]:
            out = []
            for t in c.server_types.get_all():
                m = t.data_model
                out.append({"id": m.id, "name": m.name, "description": m.description, "cores": m.cores,
                            "memory": m.memory, "disk": m.disk, "architecture": m.architecture,
                            "cpu_type": m.cpu_type, "category": getattr(m, "category", None),
                            "storage_type": m.storage_type, "prices": list(m.prices or []),
                            "locations": [{"name": loc.location.name, "deprecation": _deprecation(loc.deprecation)}
                                          for loc in getattr(m, "locations", None) or []]})
            return out

        return self.call("read server types", get)

    def locations(self) -> list[dict[str, Any]]:
        """Every location as plain JSON in the API's shape."""
        def get(c: Client) -> list[dict[str, Any]]:
            return [{"id": loc.data_model.id, "name": loc.data_model.name,
                     "description": loc.data_model.description, "country": loc.data_model.country,
                     "city": loc.data_model.city, "latitude": loc.data_model.latitude,
                     "longitude": loc.data_model.longitude, "network_zone": loc.data_model.network_zone}
                    for loc in c.locations.get_all()]

        return self.call("read locations", get)

    def vat_rate(self) -> str:
        return self.call("read pricing", lambda c: str(c.request("GET", "/pricing")["pricing"]["vat_rate"]))


def _deprecation(info: Any) -> dict[str, str] | None:
    if info is None or info.unavailable_after is None:
        return None
    announced = info.announced or info.unavailable_after
    return {"announced": announced.isoformat(), "unavailable_after": info.unavailable_after.isoformat()}


def server_view(bound: Any) -> ServerView:
    m = bound.data_model
    stype = m.server_type.data_model
    image = m.image.data_model if m.image is not None else None
    net = m.public_net
    ipv4 = net.ipv4.ip if net is not None and net.ipv4 is not None else None
    ipv6 = net.ipv6.ip if net is not None and net.ipv6 is not None else None
    firewalls = tuple(sorted(int(f.firewall.data_model.id) for f in (net.firewalls or []))) if net else ()
    return ServerView(
        id=int(m.id), name=m.name, status=m.status, server_type=stype.name, architecture=stype.architecture or "x86",
        location=m.location.data_model.name, image=(image.name or str(image.id)) if image else None,
        image_id=int(image.id) if image else None, labels=dict(m.labels or {}), ipv4=ipv4, ipv6_net=ipv6,
        backup_window=m.backup_window, firewall_ids=firewalls, primary_disk_size=int(m.primary_disk_size or 0))


def server_view_json(server: Mapping[str, Any]) -> ServerView:
    """`server_view` of a server as the API answers it (JSON), for the calls made without typed models."""
    stype = server["server_type"]
    image = server.get("image")
    net = server.get("public_net") or {}
    firewalls = tuple(sorted(int(f["id"]) for f in net.get("firewalls") or []))
    return ServerView(
        id=int(server["id"]), name=server["name"], status=server["status"], server_type=stype["name"],
        architecture=stype.get("architecture") or "x86", location=server["location"]["name"],
        image=(image.get("name") or str(image["id"])) if image else None, image_id=int(image["id"]) if image else None,
        labels=dict(server.get("labels") or {}), ipv4=(net.get("ipv4") or {}).get("ip"),
        ipv6_net=(net.get("ipv6") or {}).get("ip"), backup_window=server.get("backup_window"),
        firewall_ids=firewalls, primary_disk_size=int(server.get("primary_disk_size") or 0))


def _ref(ref: Any) -> int | str:
    """An id or a name, as hcloud's `id_or_name` sends it: a reference of digits is an id."""
    text = str(ref)
    return int(text) if text.isdigit() else text


def key_view(bound: Any) -> SshKeyView:
    m = bound.data_model
    return SshKeyView(int(m.id), m.name, m.public_key, m.fingerprint, dict(m.labels or {}))
