"""Media headers from local files end to end (issue 13): the file is checked before any call,
uploaded through the Resumable Upload API at create and edit (a handle is sent, never a URL),
remembered in the ledger by its sha256, so that a changed file is one change and a template made
elsewhere is said to be not comparable rather than shown as changed."""

from __future__ import annotations

import json
import pathlib
import shutil

import pytest
import yaml

from conftest import APP, BANNER, BUSINESS, MEDIA, OTHER_WABA, TOKEN, WABA, body, seed_with, template, write_config


def banner_config(tmp_path, on_change: str = "edit", name: str = "spring_sale") -> str:
    shutil.copy(MEDIA / "banner.png", tmp_path / "banner.png")
    return write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {name: {
        "category": "MARKETING", "languages": {"en_US": {"components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_file": "banner.png"}},
            body("Hi {{1}}, the spring sale starts today.", "Ann"),
        ]}}}}}}, {"on_change": on_change})


def uploads(graph) -> list[dict]:
    return [e for e in graph.calls() if e["path"] == f"/v26.0/{APP}/uploads" or e["path"].startswith("/v26.0/upload:")]


def test_a_header_file_is_uploaded_and_its_handle_sent_then_a_changed_file_is_one_change(load, wabactl, tmp_path):
    graph = load(seed_with())
    path = banner_config(tmp_path)
    applied = wabactl("apply", path, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    sent = [e for e in uploads(graph)]
    assert [(e["method"], e["path"].split(":")[0]) for e in sent] == [("POST", f"/v26.0/{APP}/uploads"), ("POST", "/v26.0/upload")]
    [create] = [e for e in graph.calls() if e["method"] == "POST" and e["path"].endswith("/message_templates")]
    handle = json.loads(create["params"]["components"])[0]["example"]["header_handle"][0] if isinstance(create["params"]["components"], str) \
        else create["params"]["components"][0]["example"]["header_handle"][0]
    assert handle.startswith("4::") and "http" not in handle
    assert TOKEN not in json.dumps(graph.log())
    ledger = json.loads((tmp_path / ".wabactl" / "ledger.json").read_text())
    assert list(ledger["accounts"][WABA]["media"]) == ["spring_sale[en_US]"]
    assert wabactl("plan", path, "--detailed-exitcode").exit_code == 0

    shutil.copy(MEDIA / "banner_v2.png", tmp_path / "banner.png")  # the same name, other bytes
    changed = wabactl("plan", path, "--format", "json")
    [change] = [c for a in json.loads(changed.stdout)["accounts"] for c in a["changes"]]
    assert change["key"] == "template.spring_sale[en_US]" and change["action"] == "edit"
    graph.control("DELETE", "requests")
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    assert len([e for e in uploads(graph) if e["path"] == f"/v26.0/{APP}/uploads"]) == 1
    graph.advance(24 * 3600 + 1)
    assert wabactl("plan", path, "--detailed-exitcode").exit_code == 0


def test_a_template_made_elsewhere_is_not_comparable_and_not_a_change(load, wabactl, tmp_path):
    header = {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://scontent.whatsapp.net/v/banner.jpg"]}}
    load(seed_with([template("spring_sale", category="MARKETING", components=[header, body("Hi {{1}}, the spring sale starts today.", "Ann")])]))
    result = wabactl("plan", banner_config(tmp_path), "--detailed-exitcode")
    assert result.exit_code == 0, result.output
    assert "its header media (or library inputs) cannot be compared" in result.output


def test_a_cut_upload_resumes_from_meta_s_offset(load, wabactl, tmp_path):
    graph = load(seed_with(upload_cut_after_bytes=30))
    applied = wabactl("apply", banner_config(tmp_path), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    steps = [(e["method"], e["path"].split(":")[0]) for e in uploads(graph)]
    assert ("GET", "/v26.0/upload") in steps  # asked how far it got
    info = graph.control("GET", "state")
    assert any(h.get("file_length") == (MEDIA / "banner.png").stat().st_size for h in (info.get("handles") or {}).values())


def test_a_file_changed_after_plan_out_makes_the_saved_plan_stale(load, wabactl, tmp_path):
    graph = load(seed_with())
    path = banner_config(tmp_path)
    saved = tmp_path / "plan.json"
    assert wabactl("plan", path, "--out", str(saved)).exit_code == 0
    shutil.copy(MEDIA / "banner_v2.png", tmp_path / "banner.png")
    result = wabactl("apply", str(saved))
    assert result.exit_code == 1
    assert uploads(graph) == [] and [e for e in graph.calls() if e["method"] == "POST"] == []


@pytest.mark.parametrize(("write", "message"), [
    (lambda folder: (folder / "banner.png").write_text("not an image"), "banner.png is not JPEG, PNG, MP4 or PDF; an IMAGE header takes image/jpeg or image/png"),
    (lambda folder: (folder / "banner.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024 + 1)), "banner.png is 5.0 MB; an IMAGE header takes at most 5 MB"),
    (lambda folder: (folder / "banner.png").unlink(), "banner.png: No such file or directory"),
    (lambda folder: (folder / "c.yaml").write_text((folder / "c.yaml").read_text().replace("header_file: banner.png", "header_file: ../banner.png")),
     "header_file ../banner.png is outside the folder of its config file"),
    (lambda folder: (folder / "c.yaml").write_text((folder / "c.yaml").read_text().replace("header_file: banner.png", f"header_file: {BANNER}")),
     "is outside the folder of its config file"),
])
def test_a_bad_header_file_is_refused_at_file_and_line_before_any_call(load, wabactl, tmp_path, write, message):
    graph = load(seed_with())
    path = banner_config(tmp_path)
    write(tmp_path)
    result = wabactl("plan", path)
    assert result.exit_code == 1 and message in result.stderr and "c.yaml, line " in result.stderr, result.stderr
    assert graph.log() == []


def test_no_app_to_upload_through_stops_apply_before_any_write_and_plan_still_works(load, wabactl, tmp_path):
    graph = load(seed_with())
    path = banner_config(tmp_path)
    assert wabactl("plan", path, env={"WABACTL_APP_ID": ""}).exit_code == 0  # nothing is uploaded by a plan
    result = wabactl("apply", path, "--auto-approve", env={"WABACTL_APP_ID": ""})
    assert result.exit_code == 1
    assert "upload a header_file, and no app is named to upload it through: set app_id" in result.stderr
    assert "acme: template.spring_sale[en_US]" in result.stderr
    assert [e for e in graph.calls() if e["method"] != "GET"] == []


def test_a_url_as_media_example_is_a_warning_at_file_and_line_and_apply_refuses_it(load, wabactl, tmp_path):
    graph = load(seed_with())
    path = write_config(tmp_path / "c.yaml", {"acme": {"waba_id": WABA, "templates": {"spring_sale": {
        "category": "MARKETING", "languages": {"en_US": {"components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["https://scontent.whatsapp.net/v/banner.jpg"]}},
            body("Hi {{1}}, the spring sale starts today.", "Ann")]}}}}}})
    planned = wabactl("plan", path)
    assert planned.exit_code == 0
    assert "c.yaml, line " in planned.stderr and "a media example is a URL" in planned.stderr
    applied = wabactl("apply", path, "--auto-approve")
    assert applied.exit_code == 1 and "give a media example as a URL, which Meta refuses" in applied.stderr
    assert [e for e in graph.calls() if e["method"] != "GET"] == []


def test_a_changed_file_says_why_and_a_stale_plan_names_it(load, wabactl, tmp_path):
    load(seed_with())
    path = banner_config(tmp_path)
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    saved = tmp_path / "plan.json"
    shutil.copy(MEDIA / "banner_v2.png", tmp_path / "banner.png")
    planned = wabactl("plan", path, "--out", str(saved))
    assert "header file or library inputs changed since wabactl last sent them" in planned.stdout
    (tmp_path / "banner.png").write_bytes((MEDIA / "banner_v2.png").read_bytes() + b"\0")  # a third version
    stale = wabactl("apply", str(saved))
    assert stale.exit_code == 1 and "header file or library inputs:" in stale.stderr, stale.output


def test_the_emulator_refuses_a_url_or_a_handle_it_never_gave(graph):
    for handle in ("https://scontent.whatsapp.net/v/banner.jpg", "4::made-up"):
        answer = graph.create("spring_sale", category="MARKETING", components=[
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [handle]}}, body("Hi {{1}}, the sale starts.", "Ann")])
        assert answer.status_code == 400 and answer.json()["error"]["code"] == 131009
        assert answer.json()["error"]["error_subcode"] == 2494102


def test_import_with_media_dir_then_apply_to_another_waba_converges(load, wabactl, tmp_path):
    graph = load(seed_with())
    assert wabactl("apply", banner_config(tmp_path), "--auto-approve").exit_code == 0
    out = tmp_path / "imported" / "acme.yaml"
    out.parent.mkdir()
    result = wabactl("import", "--waba", WABA, "--account", "acme", "-o", str(out), "--media-dir", str(tmp_path / "imported" / "media"))
    assert result.exit_code == 0, result.output
    held = yaml.safe_load(out.read_text())["accounts"]["acme"]
    header = held["templates"]["spring_sale"]["languages"]["en_US"]["components"][0]
    assert header == {"type": "HEADER", "format": "IMAGE", "example": {"header_file": "media/spring_sale_en_US.png"}}
    assert (out.parent / "media" / "spring_sale_en_US.png").read_bytes() == (MEDIA / "banner.png").read_bytes()
    assert TOKEN not in json.dumps(graph.log())
    fetched = [e for e in graph.log() if e.get("note") == "media"]
    assert fetched and all(e["token"] is None for e in fetched)  # the CDN download carried no token
    # The same config for a second WABA: applied, then nothing left to do.
    held["waba_id"] = OTHER_WABA
    second = out.parent / "partner.yaml"
    second.write_text(yaml.safe_dump({"version": 1, "accounts": {"partner": held}}))
    applied = wabactl("apply", str(second), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    created = [e for e in graph.calls() if e["method"] == "POST" and e["path"] == f"/v26.0/{OTHER_WABA}/message_templates"]
    assert len(created) == 1
    assert wabactl("plan", str(second), "--detailed-exitcode").exit_code == 0


def test_import_business_with_media_dir_keeps_a_folder_per_account(load, wabactl, tmp_path):
    load(seed_with())
    path = banner_config(tmp_path)
    spec = yaml.safe_load(open(path))
    spec["accounts"]["partner"] = {**spec["accounts"]["acme"], "waba_id": OTHER_WABA}
    pathlib.Path(path).write_text(yaml.safe_dump(spec))
    assert wabactl("apply", path, "--auto-approve").exit_code == 0
    out = tmp_path / "fleet"
    result = wabactl("import", "--business", BUSINESS, "-o", str(out), "--media-dir", str(out / "media"))
    assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(out).as_posix() for p in (out / "media").rglob("*.png"))
    assert len(files) == 2 and len({f.split("/")[1] for f in files}) == 2  # one folder per account
    assert all(f.endswith("/spring_sale_en_US.png") for f in files)
    assert wabactl("plan", str(out), "--detailed-exitcode").exit_code == 0


def test_the_emulator_refuses_a_handle_of_the_wrong_media_type(graph):
    handle = graph.upload()  # a PNG
    answer = graph.create("clip", category="MARKETING", components=[
        {"type": "HEADER", "format": "VIDEO", "example": {"header_handle": [handle]}}, body("Hi {{1}}, watch this.", "Ann")])
    assert answer.status_code == 400 and answer.json()["error"]["error_subcode"] == 2388047
