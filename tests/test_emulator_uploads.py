"""The Resumable Upload API through HTTP: sessions, offsets, resume after a cut, handles."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests

from reconciler.emulator import uploads

from conftest import TOKEN, error_of, seed_with

APP = "1000000000000001"
PNG = bytes(range(256)) * 40  # 10,240 bytes, not UTF-8: a body no form parser could read


def seed(**settings):
    data = seed_with(**settings)
    data["apps"] = {APP: {"name": "wabactl CI app"}}
    return data


def start(graph, length: int = len(PNG), file_type: str = "image/png", app: str = APP) -> requests.Response:
    return graph.session.post(f"{graph.url}/v26.0/{app}/uploads", timeout=10,
                              params={"file_name": "header.png", "file_length": length, "file_type": file_type})


def send(graph, session: str, data: bytes, offset: int, scheme: str = "OAuth") -> requests.Response:
    """The bytes as Meta's guide sends them: raw body, the token only in the Authorization header."""
    return requests.post(f"{graph.url}/v26.0/{session}", data=data, timeout=10,
                         headers={"Authorization": f"{scheme} {TOKEN}", "file_offset": str(offset),
                                  "Content-Type": "application/octet-stream"})


def offset_of(graph, session: str) -> int:
    answer = requests.get(f"{graph.url}/v26.0/{session}", headers={"Authorization": f"OAuth {TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == session
    return int(answer.json()["file_offset"])


def test_a_whole_upload_gives_a_handle_known_to_the_world(emulator, load):
    graph = load(seed())
    session = start(graph).json()["id"]
    assert session.startswith("upload:") and offset_of(graph, session) == 0
    handle = send(graph, session, PNG, 0).json()["h"]
    assert handle.startswith("4::")
    info = uploads.handle_info(emulator.world, handle)
    assert info is not None and info["file_type"] == "image/png" and info["file_length"] == len(PNG)
    assert info["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert uploads.handle_info(emulator.world, "4::unknown") is None
    assert offset_of(graph, session) == len(PNG)
    state = graph.control("GET", "state")
    assert handle in state["handles"] and "_chunks" not in state["uploads"][session]


def test_bytes_in_pieces_and_a_wrong_offset_is_refused(load):
    graph = load(seed())
    session = start(graph).json()["id"]
    assert send(graph, session, PNG[:4000], 0).json() == {"id": session, "file_offset": 4000}
    assert error_of(send(graph, session, PNG[4000:], 0)) == (100, None)  # must be 4000
    assert error_of(send(graph, session, PNG[4000:], 5000)) == (100, None)
    assert error_of(send(graph, session, PNG[4000:] + b"extra", 4000)) == (100, None)  # past file_length
    assert offset_of(graph, session) == 4000
    assert "h" in send(graph, session, PNG[4000:], 4000).json()


def test_a_cut_upload_resumes_from_the_offset_read_back(emulator, load):
    graph = load(seed(upload_cut_after_bytes=3000))
    session = start(graph).json()["id"]
    offset, cuts = 0, 0
    while True:
        try:
            answer = send(graph, session, PNG[offset:], offset)
        except requests.ConnectionError:
            cuts += 1
            offset = offset_of(graph, session)
            continue
        break
    assert cuts == 3 and offset == 9000  # 3000 bytes stored before each cut
    handle = answer.json()["h"]
    assert emulator.world.handles[handle]["sha256"] == hashlib.sha256(PNG).hexdigest()


def test_file_type_and_size_are_checked_per_type(load):
    graph = load(seed())
    assert error_of(start(graph, file_type="image/gif")) == (100, None)
    assert error_of(start(graph, file_type="text/plain")) == (100, None)
    assert error_of(start(graph, length=0)) == (100, None)
    assert error_of(start(graph, length="big")) == (100, None)
    assert error_of(start(graph, length=5 * uploads.MB + 1)) == (100, None)  # images: 5 MB
    assert start(graph, length=5 * uploads.MB + 1, file_type="video/mp4").status_code == 200
    assert error_of(start(graph, length=16 * uploads.MB + 1, file_type="video/mp4")) == (100, None)
    assert start(graph, length=100 * uploads.MB, file_type="application/pdf").status_code == 200
    assert start(graph, length=10, file_type="image/jpg").status_code == 200
    missing = graph.session.post(f"{graph.url}/v26.0/{APP}/uploads", params={"file_type": "image/png"}, timeout=10)
    assert error_of(missing) == (100, None)


def test_an_unknown_app_or_session_answers_as_a_missing_object(load):
    graph = load(seed())
    assert error_of(start(graph, app="424242")) == (100, 33)
    assert error_of(send(graph, "upload:bm9uZQ", b"x", 0)) == (100, 33)
    assert error_of(graph.session.get(f"{graph.url}/v26.0/{APP}/uploads", timeout=10)) == (100, 33)


@pytest.mark.parametrize("scheme", ["OAuth", "Bearer", "bearer"])
def test_the_token_in_the_header_works_with_either_scheme(load, scheme):
    graph = load(seed())
    session = start(graph).json()["id"]
    assert "h" in send(graph, session, PNG, 0, scheme=scheme).json()


def test_the_bytes_need_the_token_in_the_header(load):
    graph = load(seed())
    session = start(graph).json()["id"]
    in_query = requests.post(f"{graph.url}/v26.0/{session}", params={"access_token": TOKEN}, data=PNG,
                             headers={"file_offset": "0"}, timeout=10)
    assert error_of(in_query) == (190, None)
    nobody = requests.post(f"{graph.url}/v26.0/{session}", data=PNG, headers={"file_offset": "0"}, timeout=10)
    assert error_of(nobody) == (190, None)
    assert offset_of(graph, session) == 0


def test_a_large_file_passes_the_body_limit_and_sessions_survive_a_restart(tmp_path):
    from reconciler.emulator import Emulator

    state = str(tmp_path / "state.json")
    big = b"\x89PNG" + bytes(2 * uploads.MB)  # beyond max_body_bytes (1 MB), within the image limit
    with Emulator(seed(), state_file=state) as first:
        graph = _Graph(first.url)
        session = start(graph, length=len(big)).json()["id"]
        assert send(graph, session, big[:1000], 0).json()["file_offset"] == 1000
    with Emulator(seed(), state_file=state) as second:
        graph = _Graph(second.url)
        assert offset_of(graph, session) == 1000
        handle = send(graph, session, big[1000:], 1000).json()["h"]
        assert second.world.handles[handle]["sha256"] == hashlib.sha256(big).hexdigest()
    saved = json.loads(open(state, encoding="utf-8").read())
    assert handle in saved["handles"]


def test_pywa_uploads_through_the_emulator(load):
    pytest.importorskip("pywa")
    from pywa import WhatsApp

    graph = load(seed())
    client = WhatsApp(token=TOKEN)
    client.api._session.base_url = graph.url
    session = client.api.create_upload_session(APP, "header.png", len(PNG), "image/png")["id"]
    assert client.api.get_upload_session(session)["file_offset"] == 0
    handle = client.api.upload_file(session, PNG)["h"]
    assert handle.startswith("4::")


class _Graph:
    """The bits of conftest's Graph these helpers use, for an emulator of the test's own."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {TOKEN}"
