"""The google provider's only door to the Compute Engine API: credentials, `google-cloud-compute` REST
clients (built lazily, one set per worker thread), retries with backoff for rate limits and server errors,
and bounded `zoneOperations.wait` loops. Every answer leaves as plain JSON-shaped dicts.

Credentials, in order: the provider's `credentials` setting (a key file path or its JSON content); with an
overridden `endpoint` (an emulator) anonymous credentials; `GOOGLE_APPLICATION_CREDENTIALS`; then
application default credentials. Nothing here touches the network before the first call.
"""

from __future__ import annotations

import functools
import json
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar

import google.auth
from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.exceptions import GoogleAuthError
from google.oauth2 import service_account
from google.oauth2.credentials import Credentials as UserCredentials
from requests import exceptions as rexc

from providers.google.failures import CallFailed, Kind, from_exception
from providers.google.retry import RetryPolicy
from providers.google.sdk import load as load_compute
from reconciler.errors import ProviderError

compute_v1 = load_compute()  # only the three services used, not the SDK's ~90 (see providers/google/sdk.py)

T = TypeVar("T")
SCOPES = ["https://www.googleapis.com/auth/compute"]
PAGE_SIZE = 500


def _message(msg: Any) -> dict[str, Any]:
    out: dict[str, Any] = type(msg).to_dict(msg, preserving_proto_field_name=False, use_integers_for_enums=False)
    return out


def _from_info(info: Mapping[str, Any]) -> tuple[Credentials, str | None]:
    """Credentials of the two kinds a key file holds: a service account key or gcloud's user credentials."""
    kind = info.get("type")
    if kind == "service_account":
        sa = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
        return sa, info.get("project_id")
    if kind == "authorized_user":
        user = UserCredentials.from_authorized_user_info(info, scopes=SCOPES)
        return user, info.get("quota_project_id")
    raise ValueError(f"credentials of type {kind!r} are not supported (service_account or authorized_user)")


def load_credentials(settings: Mapping[str, Any]) -> tuple[Credentials, str | None]:
    """(credentials, the project they name if any), following the order in the module docstring."""
    given = settings.get("credentials")
    try:
        if isinstance(given, str) and given.strip():
            text = given if given.lstrip().startswith("{") else Path(given).expanduser().read_text()
            return _from_info(json.loads(text))
        if settings.get("endpoint"):
            return AnonymousCredentials(), None
        path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        if path:
            return _from_info(json.loads(Path(path).read_text()))
        creds, project = google.auth.default(scopes=SCOPES)
        return creds, project
    except (GoogleAuthError, OSError, ValueError) as e:
        raise ProviderError(f'provider "google": cannot load credentials: {e}',
                            hint='set credentials = "key.json" in provider "google" or GOOGLE_APPLICATION_CREDENTIALS'
                            ) from e


def api_endpoint(endpoint: str) -> str:
    """`https://www.googleapis.com/compute/v1/` (Terraform's form) or a bare URL -> the client's api_endpoint."""
    endpoint = endpoint.rstrip("/")
    for suffix in ("/compute/v1", "/compute/beta"):
        if endpoint.endswith(suffix):
            endpoint = endpoint[: -len(suffix)]
    return endpoint


class ComputeApi:
    def __init__(self, settings: Mapping[str, Any], retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._settings = dict(settings)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._local = threading.local()
        self._credentials: Credentials | None = None
        self._project: str | None = settings.get("project") or None
        self._sessions: list[Any] = []

    # ------------------------------------------------------------------ set-up
    def _creds(self) -> Credentials:
        with self._lock:
            if self._credentials is None:
                self._credentials, project = load_credentials(self._settings)
                self._project = self._project or project
            return self._credentials

    @property
    def project(self) -> str:
        self._creds()
        if not self._project:
            raise ProviderError('provider "google" needs a project', hint='set project = "..." in provider "google"')
        return self._project

    def _clients(self) -> SimpleNamespace:
        clients: SimpleNamespace | None = getattr(self._local, "clients", None)
        if clients is None:
            creds = self._creds()
            endpoint = self._settings.get("endpoint")
            options = ClientOptions(api_endpoint=api_endpoint(endpoint)) if endpoint else None
            kw: dict[str, Any] = {"credentials": creds, "transport": "rest", "client_options": options}
            clients = SimpleNamespace(instances=compute_v1.InstancesClient(**kw),
                                      operations=compute_v1.ZoneOperationsClient(**kw),
                                      accelerators=compute_v1.AcceleratorTypesClient(**kw),
                                      images=compute_v1.ImagesClient(**kw),
                                      machine_types=compute_v1.MachineTypesClient(**kw),
                                      disk_types=compute_v1.DiskTypesClient(**kw))
            self._local.clients = clients
            with self._lock:
                self._sessions.extend(c.transport for c in vars(clients).values())
        return clients

    def close(self) -> None:
        with self._lock:
            transports, self._sessions = self._sessions, []
        for transport in transports:
            transport.close()

    # ------------------------------------------------------------------ retries
    def call(self, fn: Callable[[SimpleNamespace], T]) -> T:
        """Run one API call, retrying rate limits, 5xx and dropped connections with backoff; a failure that
        stays leaves as CallFailed (no SDK exception gets out of this module)."""
        delay = self.retry.base
        attempt = not_ready = 0
        while True:
            try:
                return fn(self._clients())
            except gexc.GoogleAPICallError as e:
                failure = from_exception(e)
                if failure.kind is Kind.NOT_READY:  # another operation on the instance: wait for it, steadily
                    not_ready += 1
                    if not_ready >= self.retry.not_ready_attempts:
                        raise CallFailed(failure) from e
                    self._sleep(self.retry.not_ready_delay)
                    continue
                attempt += 1
                if not failure.kind.retryable or attempt >= self.retry.attempts:
                    raise CallFailed(failure) from e
            except (rexc.ConnectionError, rexc.Timeout) as e:
                attempt += 1
                if attempt >= self.retry.attempts:
                    raise ProviderError(f"cannot reach the Compute Engine API: {e}", retryable=True) from e
            self._sleep(min(self.retry.cap, delay) * (0.5 + random.random() / 2))
            delay *= 2

    # ------------------------------------------------------------------ calls
    def insert(self, zone: str, body: Mapping[str, Any], request_id: str) -> dict[str, Any]:
        resource = compute_v1.Instance.from_json(json.dumps(body))
        request = compute_v1.InsertInstanceRequest(project=self.project, zone=zone, instance_resource=resource,
                                                   request_id=request_id)
        return _message(self.call(lambda c: c.instances.insert_unary(request=request, retry=None,
                                                                     timeout=self.retry.call_timeout)))

    def get(self, zone: str, name: str) -> dict[str, Any] | None:
        try:
            return _message(self.call(lambda c: c.instances.get(project=self.project, zone=zone, instance=name,
                                                                retry=None, timeout=self.retry.call_timeout)))
        except CallFailed as e:
            if e.failure.kind is Kind.NOT_FOUND:
                return None
            raise

    def delete(self, zone: str, name: str, request_id: str) -> dict[str, Any] | None:
        request = compute_v1.DeleteInstanceRequest(project=self.project, zone=zone, instance=name,
                                                   request_id=request_id)
        try:
            return _message(self.call(lambda c: c.instances.delete_unary(request=request, retry=None,
                                                                         timeout=self.retry.call_timeout)))
        except CallFailed as e:
            if e.failure.kind is Kind.NOT_FOUND:
                return None
            raise

    def start(self, zone: str, name: str, request_id: str) -> dict[str, Any]:
        request = compute_v1.StartInstanceRequest(project=self.project, zone=zone, instance=name,
                                                  request_id=request_id)
        return _message(self.call(lambda c: c.instances.start_unary(request=request, retry=None,
                                                                    timeout=self.retry.call_timeout)))

    def image_exists(self, project: str, family: bool, name: str) -> bool:
        """Whether `images.get` (or `images.getFromFamily`) finds the image (or family) in `project`."""
        def ask(c: SimpleNamespace) -> Any:
            if family:
                return c.images.get_from_family(project=project, family=name, retry=None,
                                                timeout=self.retry.call_timeout)
            return c.images.get(project=project, image=name, retry=None, timeout=self.retry.call_timeout)
        try:
            self.call(ask)
        except CallFailed as e:
            if e.failure.kind in (Kind.NOT_FOUND, Kind.FORBIDDEN):
                return False
            raise
        return True

    def set_labels(self, zone: str, name: str, labels: Mapping[str, str], fingerprint: str) -> dict[str, Any]:
        body = compute_v1.InstancesSetLabelsRequest(labels=dict(labels), label_fingerprint=fingerprint)
        request = compute_v1.SetLabelsInstanceRequest(project=self.project, zone=zone, instance=name,
                                                      instances_set_labels_request_resource=body)
        return _message(self.call(lambda c: c.instances.set_labels_unary(request=request, retry=None,
                                                                         timeout=self.retry.call_timeout)))

    def set_metadata(self, zone: str, name: str, items: list[dict[str, str]], fingerprint: str) -> dict[str, Any]:
        body = compute_v1.Metadata(items=[compute_v1.Items(key=i["key"], value=i["value"]) for i in items],
                                   fingerprint=fingerprint)
        request = compute_v1.SetMetadataInstanceRequest(project=self.project, zone=zone, instance=name,
                                                        metadata_resource=body)
        return _message(self.call(lambda c: c.instances.set_metadata_unary(request=request, retry=None,
                                                                           timeout=self.retry.call_timeout)))

    def set_tags(self, zone: str, name: str, tags: list[str], fingerprint: str) -> dict[str, Any]:
        body = compute_v1.Tags(items=list(tags), fingerprint=fingerprint)
        request = compute_v1.SetTagsInstanceRequest(project=self.project, zone=zone, instance=name,
                                                    tags_resource=body)
        return _message(self.call(lambda c: c.instances.set_tags_unary(request=request, retry=None,
                                                                       timeout=self.retry.call_timeout)))

    def wait(self, op: Mapping[str, Any], deadline: float) -> dict[str, Any]:
        """Bounded `zoneOperations.wait` calls until the operation is DONE; ProviderError past `deadline`."""
        zone = str(op.get("zone", "")).rsplit("/", 1)[-1]
        name = str(op["name"])
        current = dict(op)
        while current.get("status") != "DONE":
            if time.monotonic() > deadline:
                raise ProviderError(f"operation {name} in {zone} is still {current.get('status')} after the "
                                    "time allowed", retryable=True, hint="run apply again; it will wait for it")
            current = _message(self.call(lambda c: c.operations.wait(
                project=self.project, zone=zone, operation=name, retry=None,
                timeout=self.retry.wait_call_timeout)))
        return current

    def _first_page(self, client: str, request: Any, clients: SimpleNamespace) -> Any:
        """One page of an aggregatedList: exactly one request (the pager fetches further pages only when asked)."""
        pager = getattr(clients, client).aggregated_list(request=request, retry=None, timeout=self.retry.call_timeout)
        return next(iter(pager.pages))

    def aggregated_instances(self, filter_: str) -> tuple[list[dict[str, Any]], int]:
        """Every instance matching `filter_` in every zone, PAGE_SIZE to a page; (instances, pages fetched)."""
        out: list[dict[str, Any]] = []
        token = ""
        pages = 0
        while True:
            request = compute_v1.AggregatedListInstancesRequest(project=self.project, filter=filter_,
                                                                max_results=PAGE_SIZE, page_token=token)
            page = self.call(functools.partial(self._first_page, "instances", request))
            pages += 1
            for scoped in page.items.values():
                out.extend(_message(i) for i in scoped.instances)
            token = page.next_page_token
            if not token:
                return out, pages

    def aggregated(self, kind: str) -> dict[str, list[dict[str, Any]]]:
        """zone -> every item of one catalogue listing ("machine_types", "accelerators" or "disk_types")."""
        requests = {"machine_types": compute_v1.AggregatedListMachineTypesRequest,
                    "accelerators": compute_v1.AggregatedListAcceleratorTypesRequest,
                    "disk_types": compute_v1.AggregatedListDiskTypesRequest}
        field = {"machine_types": "machine_types", "accelerators": "accelerator_types", "disk_types": "disk_types"}
        found: dict[str, list[dict[str, Any]]] = {}
        token = ""
        while True:
            request = requests[kind](project=self.project, max_results=PAGE_SIZE, page_token=token)
            page = self.call(functools.partial(self._first_page, kind, request))
            for scope, scoped in page.items.items():
                found.setdefault(scope.rsplit("/", 1)[-1], []).extend(
                    _message(item) for item in getattr(scoped, field[kind]))
            token = page.next_page_token
            if not token:
                return found

    def accelerator_zones(self, names: list[str]) -> dict[str, set[str]]:
        """zone -> the given accelerator types offered there (one aggregatedList, filtered by name)."""
        filter_ = " OR ".join(f'(name = "{n}")' for n in sorted(names))
        found: dict[str, set[str]] = {}
        token = ""
        while True:
            request = compute_v1.AggregatedListAcceleratorTypesRequest(
                project=self.project, filter=filter_, max_results=PAGE_SIZE, page_token=token)
            page = self.call(functools.partial(self._first_page, "accelerators", request))
            for scope, scoped in page.items.items():
                for acc in scoped.accelerator_types:
                    found.setdefault(scope.rsplit("/", 1)[-1], set()).add(acc.name)
            token = page.next_page_token
            if not token:
                return found
