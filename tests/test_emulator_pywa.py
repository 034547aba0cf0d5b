"""pywa driven against the emulator: JSON bodies, the token in the Authorization header, and the
fields pywa insists on (``timezone_id``, ``parameter_format``, ``summary`` keys)."""

from __future__ import annotations

import pytest

from conftest import WABA, seed_with, template

pywa = pytest.importorskip("pywa")

from pywa import WhatsApp  # noqa: E402
from pywa.errors import WhatsAppError  # noqa: E402
from pywa.types import templates as pywa_templates  # noqa: E402


@pytest.fixture
def whatsapp(load):
    graph = load(seed_with([template(f"seeded_{i:02d}") for i in range(30)]))
    client = WhatsApp(token="test-token", waba_id=WABA)
    client.api._session.base_url = graph.url  # pywa has no option for another host
    client.graph = graph
    return client


def test_pywa_scenario(whatsapp):
    account = whatsapp.get_business_account()
    assert account.id == WABA and account.timezone_id == "1"
    first_page = list(whatsapp.get_templates())
    assert len(first_page) == 25 and all(t.parameter_format for t in first_page)
    for language in (pywa_templates.TemplateLanguage.ENGLISH_US, pywa_templates.TemplateLanguage.SPANISH):
        created = whatsapp.create_template(pywa_templates.Template(
            name="pywa_made", language=language, category=pywa_templates.TemplateCategory.UTILITY,
            components=[pywa_templates.BodyText("Your order {{1}} ships today.", "#1")]))
        assert created.status == pywa_templates.TemplateStatus.PENDING
    spanish = next(t for t in whatsapp.get_templates(name="pywa_made") if t.language.value == "es")
    assert whatsapp.delete_template("pywa_made", template_id=spanish.id).success
    assert whatsapp.delete_template("seeded_00").success
    left = {(t.name, t.language.value) for t in whatsapp.get_templates(name="pywa_made")}
    assert left == {("pywa_made", "en_US")}
    assert {e["token"] for e in whatsapp.graph.log()} == {"header"}


def test_pywa_sees_graph_errors_with_their_codes(whatsapp):
    with pytest.raises(WhatsAppError) as missing:
        whatsapp.delete_template("nothing_here")
    assert (missing.value.code, missing.value.subcode) == (100, 2593002)
