"""One emulator per test session on port 0; each test loads the seed it needs through the
emulator's reset control, so tests never share state."""

from __future__ import annotations

import copy
import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from reconciler.emulator import Emulator

_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    """No test reaches beyond loopback: any other connection fails loudly."""
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise AssertionError(f"a test tried to connect to {host}, beyond loopback")
    return _connect(self, address)


socket.socket.connect = _loopback_only  # type: ignore[method-assign]

WABA = "111000000000001"
OTHER_WABA = "111000000000002"
BUSINESS = "222000000000001"
ME = "900000000000001"
PEOPLE = ("10222270944537964", "10222270944537965", "10222270944537966")
TOKEN = "test-token"
APP = "1000000000000001"  # the app that takes upload sessions (header files)
MEDIA = Path(__file__).resolve().parent / "fixtures" / "media"
BANNER = str(MEDIA / "banner.png")  # a real PNG: header_file examples upload it

BASE_SEED: dict[str, Any] = {
    "settings": {"review_delay_seconds": 0},
    "clock": {"start": "2026-11-01T09:00:00Z", "frozen": True},
    "tokens": [
        {"token": TOKEN, "user": ME},
        {"token": "other-waba-token", "user": ME, "wabas": [OTHER_WABA], "businesses": []},
        {"token": "messaging-only-token", "user": ME, "scopes": ["whatsapp_business_messaging"]},
    ],
    "users": {
        ME: {"name": "wabactl CI", "user_type": "SYSTEM_USER"},
        **{person: {"name": f"Person {i}"} for i, person in enumerate(PEOPLE)},
    },
    "apps": {APP: {"name": "wabactl CI"}},
    "businesses": {BUSINESS: {"name": "Acme", "owned_wabas": [WABA], "client_wabas": [OTHER_WABA]}},
    "wabas": {
        WABA: {"name": "Acme Main", "owner_business": BUSINESS, "creation_time": 1700000000,
               "assigned_users": {ME: ["MANAGE"]}},
        OTHER_WABA: {"name": "Acme Partner", "creation_time": 1710000000},
    },
}


def seed_with(templates: list[dict[str, Any]] | None = None, **settings: Any) -> dict[str, Any]:
    """The base seed with templates in the main WABA and some settings changed."""
    seed = copy.deepcopy(BASE_SEED)
    seed["settings"].update(settings)
    seed["wabas"][WABA]["templates"] = templates or []
    return seed


def body(text: str = "Your order {{1}} ships today.", *examples: str) -> dict[str, Any]:
    component: dict[str, Any] = {"type": "BODY", "text": text}
    if examples:
        component["example"] = {"body_text": [list(examples)]}
    return component


def template(name: str, language: str = "en_US", status: str = "APPROVED", category: str = "UTILITY",
             components: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "language": language, "status": status, "category": category,
            "components": components or [body("Your order {{1}} ships today.", "#1")], **extra}


class Graph:
    """A thin HTTP client for tests: real requests to the emulator, token in the header."""

    def __init__(self, url: str, token: str | None = TOKEN) -> None:
        self.url = url
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.url}/v26.0/{path}", params=params, timeout=10)

    def post(self, path: str, json: Any = None, data: Any = None) -> requests.Response:
        return self.session.post(f"{self.url}/v26.0/{path}", json=json, data=data, timeout=10)

    def delete(self, path: str, **params: Any) -> requests.Response:
        return self.session.delete(f"{self.url}/v26.0/{path}", params=params, timeout=10)

    def create(self, name: str, language: str = "en_US", category: str = "UTILITY",
               components: list[dict[str, Any]] | None = None, **extra: Any) -> requests.Response:
        payload = {"name": name, "language": language, "category": category,
                   "components": components or [body("Your order {{1}} ships today.", "#1")], **extra}
        return self.post(f"{WABA}/message_templates", json=payload)

    def control(self, method: str, name: str, payload: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_emulator/{name}", json=payload, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def advance(self, seconds: float) -> None:
        self.control("POST", "clock", {"advance": seconds})

    def upload(self, path: str = BANNER, file_type: str = "image/png") -> str:
        """A handle of the Resumable Upload API for the file, as Meta gives one."""
        data = Path(path).read_bytes()
        opened = self.session.post(f"{self.url}/v26.0/{APP}/uploads", params={"file_name": Path(path).name, "file_length": len(data),
                                                                               "file_type": file_type}, timeout=10)
        assert opened.status_code == 200, opened.text
        sent = self.session.post(f"{self.url}/v26.0/{opened.json()['id']}", data=data, headers={"file_offset": "0"}, timeout=10)
        assert sent.status_code == 200, sent.text
        return str(sent.json()["h"])

    def log(self) -> list[dict[str, Any]]:
        return self.control("GET", "requests")["data"]

    def calls(self) -> list[dict[str, Any]]:
        """The log without batch envelopes: a batch's items are logged each on its own."""
        return [e for e in self.log() if e["path"].strip("/") not in ("", "v26.0")]


def error_of(response: requests.Response) -> tuple[int, int | None]:
    """(code, subcode) of a Graph error answer; fails the test if it is not one."""
    assert response.status_code >= 400, response.text
    error = response.json()["error"]
    assert isinstance(error.get("error_data", {}), dict)
    assert error["fbtrace_id"] and "message" in error and "type" in error
    return error["code"], error.get("error_subcode")


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator(BASE_SEED) as running:
        yield running


@pytest.fixture
def load(emulator: Emulator):
    """Load a seed into the shared emulator and return a Graph client for it."""

    def loader(seed: dict[str, Any] | None = None, token: str | None = TOKEN) -> Graph:
        graph = Graph(emulator.url, token)
        graph.control("POST", "reset", {"seed": seed or seed_with()})
        return graph

    return loader


@pytest.fixture
def graph(load) -> Graph:
    return load()


@pytest.fixture
def wabactl(emulator):
    """Run the CLI in-process against the shared emulator; returns click's Result."""
    from click.testing import CliRunner

    from reconciler.cli import main

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        environment = {"WABACTL_GRAPH_URL": emulator.url, "WABACTL_TOKEN": TOKEN, "NO_COLOR": "1",
                       "WABACTL_RETRY_BACKOFF": "0.01", "WABACTL_APP_ID": APP, **(env or {})}
        return CliRunner().invoke(main, list(args), input=input, env=environment, catch_exceptions=False)

    return run


def write_config(path, accounts: dict[str, Any], defaults: dict[str, Any] | None = None) -> str:
    """Write a version-1 config file and return its path."""
    import yaml

    data: dict[str, Any] = {"version": 1}
    if defaults:
        data["defaults"] = defaults
    data["accounts"] = accounts
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)
