"""``wabactl import --business ID -o DIR`` end to end against the emulator: every WABA of a business
as config, templates the accounts share verbatim written once as a template set, and planning the
output shows no changes."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from conftest import BASE_SEED, BUSINESS, ME, PEOPLE, WABA, body, template

CLIENTS = 20
SHARED = 10


def client_waba(i: int) -> str:
    return f"333000000000{i:03d}"


def shared_templates() -> list[dict[str, Any]]:
    """Ten templates every client WABA holds verbatim: some in two languages, the last with a literal ${."""
    rows = []
    for t in range(SHARED - 1):
        name = f"shared_{t:02d}"
        rows.append(template(name, components=[body(f"Order {{{{1}}}} update {t}.", "#1")]))
        if t % 3 == 0:
            rows.append(template(name, "es", components=[body(f"Pedido {{{{1}}}} novedad {t}.", "#1")]))
    rows.append(template(f"shared_{SHARED - 1:02d}", category="MARKETING",
                         components=[body("Prices in ${currency} and $${raw} apply to {{1}}.", "#1")]))
    return rows


def fleet_seed() -> dict[str, Any]:
    """BUSINESS owns the main WABA (Acme Main, templates of its own) and has 20 client WABAs; each
    client holds the shared templates, one template only it has, and ``greeting``, whose text
    differs between the clients. Two clients have the same name."""
    seed = copy.deepcopy(BASE_SEED)
    clients = [client_waba(i) for i in range(CLIENTS)]
    seed["businesses"] = {BUSINESS: {"name": "Acme", "owned_wabas": [WABA], "client_wabas": clients}}
    seed["wabas"] = {WABA: {"name": "Acme Main", "owner_business": BUSINESS, "assigned_users": {ME: ["MANAGE"]},
                            "templates": [template("main_only"), template("greeting", components=[body("Hello from Acme {{1}}.", "Ann")])]}}
    for i, waba in enumerate(clients):
        seed["wabas"][waba] = {
            "name": "Twin Shop" if i in (3, 4) else f"Client {i:02d}",
            "assigned_users": {ME: ["MANAGE"], PEOPLE[i % 2]: ["MANAGE_TEMPLATES", "VIEW_TEMPLATES"]},
            "templates": [*shared_templates(),
                          template(f"own_{i:02d}", components=[body(f"Only client {i} sends {{{{1}}}}.", "#1")]),
                          template("greeting", components=[body(f"Hello from shop {i} {{{{1}}}}.", "Ann")])],
        }
    return seed


def read(path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_import_business_writes_shared_templates_once_and_plans_no_changes(load, wabactl, tmp_path):
    graph = load(fleet_seed())
    out = tmp_path / "fleet"
    result = wabactl("import", "--business", BUSINESS, "--client", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "20 WABA(s) of business" in result.stderr
    assert "1 template set(s) in sets.yaml holding 10 template(s) in place of 200 account copies" in result.stderr

    files = sorted(p.name for p in out.iterdir())
    assert "sets.yaml" in files and len(files) == CLIENTS + 1
    assert f"twin-shop-{client_waba(3)}.yaml" in files and f"twin-shop-{client_waba(4)}.yaml" in files
    assert "acme-main.yaml" not in files  # --client: the owned WABA is left out

    sets = read(out / "sets.yaml")
    assert sets["version"] == 1 and list(sets) == ["version", "template_sets"]
    shared = sets["template_sets"]["shared"]["templates"]
    assert sorted(shared) == [f"shared_{t:02d}" for t in range(SHARED)]
    assert sorted(shared["shared_00"]["languages"]) == ["en_US", "es"]
    note = shared[f"shared_{SHARED - 1:02d}"]["languages"]["en_US"]["components"][0]["text"]
    assert note == "Prices in $${currency} and $$${raw} apply to {{1}}."  # a literal ${ is written $${

    for i in range(CLIENTS):
        name = f"twin-shop-{client_waba(i)}" if i in (3, 4) else f"client-{i:02d}"
        data = read(out / f"{name}.yaml")
        assert data["version"] == 1
        account = data["accounts"][name]
        assert account["waba_id"] == client_waba(i) and account["business_id"] == BUSINESS
        assert account["use"] == ["shared"]
        assert sorted(account["templates"]) == ["greeting", f"own_{i:02d}"]  # differing content stays in the account
        assert account["users"] == {ME: ["MANAGE"], PEOPLE[i % 2]: ["MANAGE_TEMPLATES", "VIEW_TEMPLATES"]}
    before = len(graph.calls())

    validated = wabactl("validate", str(out))
    assert validated.exit_code == 0, validated.output
    assert "20 account(s)" in validated.stdout
    planned = wabactl("plan", str(out), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout
    assert [e for e in graph.calls()[before:] if e["method"] != "GET"] == []


def test_owned_and_client_by_default_and_owned_alone(load, wabactl, tmp_path):
    load(fleet_seed())
    both = tmp_path / "both"
    result = wabactl("import", "--business", BUSINESS, "-o", str(both))
    assert result.exit_code == 0, result.output
    assert "21 WABA(s)" in result.stderr
    main = read(both / "acme-main.yaml")["accounts"]["acme-main"]
    assert "use" not in main and sorted(main["templates"]) == ["greeting", "main_only"]
    assert wabactl("plan", str(both), "--detailed-exitcode").exit_code == 0

    owned = tmp_path / "owned"
    result = wabactl("import", "--business", BUSINESS, "--owned", "-o", str(owned))
    assert result.exit_code == 0, result.output
    assert "no template shared verbatim, so no template set" in result.stderr
    assert sorted(p.name for p in owned.iterdir()) == ["acme-main.yaml"]


def test_refuses_a_directory_holding_config_files_before_any_request(load, wabactl, tmp_path):
    graph = load(fleet_seed())
    out = tmp_path / "fleet"
    out.mkdir()
    (out / "old.yaml").write_text("version: 1\naccounts: {}\n")
    (out / "notes.txt").write_text("kept")
    result = wabactl("import", "--business", BUSINESS, "-o", str(out))
    assert result.exit_code == 1
    assert "already holds config files (old.yaml)" in result.stderr and "nothing was written" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "old.yaml"]
    assert graph.log() == []

    not_dir = tmp_path / "file.yaml"
    not_dir.write_text("x")
    result = wabactl("import", "--business", BUSINESS, "-o", str(not_dir))
    assert result.exit_code == 1 and "is not a directory" in result.stderr


def test_usage_errors(load, wabactl, tmp_path):
    graph = load(fleet_seed())
    cases = [
        ((), "give --waba ID"),
        (("--business", BUSINESS), "give the directory with -o DIR"),
        (("--waba", WABA, "--owned"), "--owned and --client choose a business's WABAs"),
        (("--business", BUSINESS, "--account", "x", "-o", str(tmp_path / "d")), "give it with --waba"),
        (("--waba", WABA, "-o", str(tmp_path)), "is a directory"),
    ]
    for args, message in cases:
        result = wabactl("import", *args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
    assert graph.log() == []
    assert not (tmp_path / "d").exists()


def test_a_waba_that_cannot_be_read_fails_the_import_and_writes_nothing(load, wabactl, tmp_path):
    graph = load(fleet_seed())
    graph.control("POST", "faults", {"kind": "error", "path": f"/{client_waba(7)}/message_templates", "status": 400, "code": 100})
    out = tmp_path / "fleet"
    result = wabactl("import", "--business", BUSINESS, "-o", str(out))
    assert result.exit_code == 1
    assert f"cannot read 1 of the 21 WABAs of business {BUSINESS}; nothing was written" in result.stderr
    assert f"{client_waba(7)} (client-07)" in result.stderr
    assert not out.exists()
