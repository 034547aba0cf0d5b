"""message_templates through HTTP: listing, create limits, review, edit, delete, name locks."""

from __future__ import annotations

import copy
import json
import statistics
import time

import requests

from reconciler.emulator import Emulator

from conftest import BASE_SEED, TOKEN, WABA, body, error_of, seed_with, template

DAY = 86400


def names(graph, **params):
    """Every row of the listing, following ``paging.next`` exactly as given."""
    rows = []
    response = graph.get(f"{WABA}/message_templates", **params)
    while True:
        page = response.json()
        rows += page["data"]
        if "next" not in page["paging"]:
            return rows
        response = graph.session.get(page["paging"]["next"], timeout=10)


# --- listing --------------------------------------------------------------------------------


def test_listing_pages_by_cursor_with_absolute_next(load):
    graph = load(seed_with([template(f"t{i:02d}", "en_US") for i in range(30)]))
    first = graph.get(f"{WABA}/message_templates").json()
    assert len(first["data"]) == 25  # the default page size
    assert first["paging"]["next"].startswith(graph.url + "/v26.0/")
    assert set(first["paging"]["cursors"]) == {"before", "after"}
    second = graph.get(f"{WABA}/message_templates", after=first["paging"]["cursors"]["after"]).json()
    assert len(second["data"]) == 5 and "next" not in second["paging"] and "previous" in second["paging"]
    everything = {r["name"] for r in first["data"] + second["data"]}
    assert everything == {f"t{i:02d}" for i in range(30)}
    back = graph.get(f"{WABA}/message_templates", before=second["paging"]["cursors"]["before"]).json()
    assert [r["id"] for r in back["data"]] == [r["id"] for r in first["data"]]


def test_limit_is_capped_by_page_max_and_next_absent_on_last_page(load):
    graph = load(seed_with([template(f"t{i:02d}") for i in range(12)], page_max=5))
    page = graph.get(f"{WABA}/message_templates", limit=1000).json()
    assert len(page["data"]) == 5
    assert len(names(graph, limit=1000)) == 12
    exact = graph.get(f"{WABA}/message_templates", limit=12).json()
    assert len(exact["data"]) == 5 and "next" in exact["paging"]


def test_bad_limit_and_cursor_are_graph_errors(graph):
    assert error_of(graph.get(f"{WABA}/message_templates", limit="many")) == (100, None)
    assert error_of(graph.get(f"{WABA}/message_templates", limit=0)) == (100, None)
    assert error_of(graph.get(f"{WABA}/message_templates", after="%%%")) == (100, None)


def test_fields_projection_always_keeps_id(load):
    graph = load(seed_with([template("order_shipped")]))
    row = graph.get(f"{WABA}/message_templates", fields="name,status").json()["data"][0]
    assert set(row) == {"id", "name", "status"}
    assert error_of(graph.get(f"{WABA}/message_templates", fields="name,colour")) == (100, None)


def test_filters_name_is_substring_and_lists_are_case_insensitive(load):
    graph = load(seed_with([
        template("order_shipped"), template("order_shipped_v2"),
        template("promo", category="MARKETING", status="REJECTED"),
        template("order_shipped", language="es"),
    ]))
    assert sorted(r["name"] for r in names(graph, name="order_shipped")) == [
        "order_shipped", "order_shipped", "order_shipped_v2"]
    assert [r["name"] for r in names(graph, status="rejected")] == ["promo"]
    assert {r["name"] for r in names(graph, status="approved,rejected")} == {"order_shipped", "order_shipped_v2", "promo"}
    assert [r["name"] for r in names(graph, category="MARKETING")] == ["promo"]
    assert [r["language"] for r in names(graph, language="es")] == ["es"]


def test_summary_counts_names_or_translations(load):
    seeded = [template("a"), template("a", language="es"), template("b")]
    graph = load(seed_with(seeded))
    summary = graph.get(f"{WABA}/message_templates",
                        summary="total_count,message_template_count,message_template_limit,are_translations_complete").json()["summary"]
    assert summary == {"total_count": 3, "message_template_count": 2, "message_template_limit": 250,
                       "are_translations_complete": True}
    graph = load(seed_with(seeded, count_mode="translation"))
    assert graph.get(f"{WABA}/message_templates", summary="true").json()["summary"]["message_template_count"] == 3


def test_get_one_and_unknown_id(load):
    graph = load(seed_with([template("order_shipped")]))
    row = names(graph)[0]
    one = graph.get(row["id"], fields="status").json()
    assert one == {"id": row["id"], "status": "APPROVED"}
    assert error_of(graph.get("999999999")) == (100, 33)


# --- create limits --------------------------------------------------------------------------


def test_duplicate_name_and_language_is_2388024_but_other_language_is_fine(load):
    graph = load(seed_with([template("order_shipped")]))
    assert error_of(graph.create("order_shipped")) == (100, 2388024)
    assert graph.create("order_shipped", language="es").status_code == 200


def test_template_cap_counts_each_name_once_by_default(load):
    graph = load(seed_with([template(f"t{i}") for i in range(3)], template_limit=3))
    assert graph.create("t0", language="es").status_code == 200  # same name: no new slot
    assert error_of(graph.create("t9")) == (100, 2388019)


def test_template_cap_per_translation_when_configured(load):
    graph = load(seed_with([template(f"t{i}") for i in range(3)], template_limit=3, count_mode="translation"))
    assert error_of(graph.create("t0", language="es")) == (100, 2388019)


def test_hundred_creations_per_rolling_hour_then_80008_with_regain_time(load):
    graph = load(seed_with(creates_per_hour=3))
    for i in range(3):
        assert graph.create(f"t{i}").status_code == 200
    refused = graph.create("t3")
    assert error_of(refused) == (80008, None)
    assert refused.json()["error"]["is_transient"] is True
    usage = json.loads(refused.headers["X-Business-Use-Case-Usage"])
    assert usage[WABA][0]["type"] == "whatsapp_business_management"
    assert usage[WABA][0]["estimated_time_to_regain_access"] == 60
    graph.advance(3601)
    assert graph.create("t3").status_code == 200


def test_creation_limit_error_code_is_selectable(load):
    graph = load(seed_with(creates_per_hour=1, create_limit_code=4))
    graph.create("t0")
    assert error_of(graph.create("t1")) == (4, None)


def test_call_budget_per_waba_answers_80008(load):
    graph = load(seed_with(calls_per_hour=3))
    for _ in range(3):
        assert graph.get(f"{WABA}/message_templates").status_code == 200
    refused = graph.get(f"{WABA}/message_templates")
    assert error_of(refused) == (80008, None)
    assert json.loads(refused.headers["X-Business-Use-Case-Usage"])[WABA][0]["estimated_time_to_regain_access"] >= 1


def test_usage_headers_on_answers(graph):
    response = graph.get(f"{WABA}/message_templates")
    assert set(json.loads(response.headers["X-App-Usage"])) == {"call_count", "total_cputime", "total_time"}
    usage = json.loads(response.headers["X-Business-Use-Case-Usage"])
    assert usage[WABA][0]["estimated_time_to_regain_access"] == 0


# --- review ---------------------------------------------------------------------------------


def test_review_is_pending_until_the_delay_has_passed(load):
    graph = load(seed_with(review_delay_seconds=600))
    created = graph.create("order_shipped").json()
    assert created["status"] == "PENDING"
    graph.advance(599)
    assert graph.get(created["id"]).json()["status"] == "PENDING"
    graph.advance(2)
    assert graph.get(created["id"]).json()["status"] == "APPROVED"


def test_review_rules_reject_and_recategorise(load):
    rules = [{"outcome": "reject", "name": "bad_*", "rejected_reason": "SCAM"},
             {"outcome": "recategorize", "body_contains": "discount", "category": "UTILITY"}]
    graph = load(seed_with(review_rules=rules))
    rejected = graph.create("bad_offer").json()["id"]
    moved = graph.create("order_news", components=[body("Your order {{1}} has a discount today.", "#1")]).json()["id"]
    assert graph.get(rejected, fields="status,rejected_reason").json() == {
        "id": rejected, "status": "REJECTED", "rejected_reason": "SCAM"}
    row = graph.get(moved, fields="status,category,previous_category").json()
    assert row == {"id": moved, "status": "APPROVED", "category": "MARKETING", "previous_category": "UTILITY"}


def test_adjacent_variables_are_rejected_at_review(graph):
    created = graph.create("twins", components=[body("Codes {{1}}{{2}} are yours now.", "a", "b")]).json()
    assert graph.get(created["id"], fields="status,rejected_reason").json()["rejected_reason"] == "INVALID_FORMAT"


# --- edit -----------------------------------------------------------------------------------


def _edit(graph, template_id, text="Your parcel {{1}} ships today.", **extra):
    return graph.post(template_id, json={"components": [body(text, "#1")], **extra})


def test_edit_of_approved_template_goes_back_to_review(load):
    graph = load(seed_with([template("order_shipped")], review_delay_seconds=60))
    template_id = names(graph)[0]["id"]
    assert _edit(graph, template_id).json() == {"success": True}
    after = graph.get(template_id).json()
    assert after["status"] == "PENDING"
    assert after["components"][0]["text"] == "Your parcel {{1}} ships today."


def test_edit_only_in_editable_statuses(load):
    graph = load(seed_with([template("a", status="PENDING"), template("b", status="DISABLED"),
                            template("c", status="PAUSED"), template("d", status="REJECTED")]))
    by_name = {r["name"]: r["id"] for r in names(graph)}
    assert error_of(_edit(graph, by_name["a"])) == (100, 2388039)
    assert error_of(_edit(graph, by_name["b"])) == (100, 2388039)
    assert _edit(graph, by_name["c"]).status_code == 200
    assert _edit(graph, by_name["d"]).status_code == 200


def test_category_of_approved_template_cannot_change(load):
    graph = load(seed_with([template("a"), template("b", status="REJECTED")]))
    by_name = {r["name"]: r["id"] for r in names(graph)}
    assert error_of(graph.post(by_name["a"], json={"category": "MARKETING"})) == (100, 2388039)
    assert graph.post(by_name["b"], json={"category": "MARKETING"}).status_code == 200


def test_edit_quota_one_a_day_ten_a_month_for_approved(load):
    graph = load(seed_with([template("a")]))
    template_id = names(graph)[0]["id"]
    assert _edit(graph, template_id, "Your parcel {{1}} ships now.").status_code == 200
    assert error_of(_edit(graph, template_id, "Your box {{1}} ships now.")) == (100, 2388039)
    for day in range(9):
        graph.advance(DAY + 1)
        assert _edit(graph, template_id, f"Your box {{{{1}}}} ships on day {day}.").status_code == 200
    graph.advance(DAY + 1)
    assert error_of(_edit(graph, template_id, "Your crate {{1}} ships now.")) == (100, 2388039)
    graph.advance(25 * DAY)
    assert _edit(graph, template_id, "Your crate {{1}} ships now.").status_code == 200


def test_rejected_templates_edit_without_quota(load):
    graph = load(seed_with([template("a", status="REJECTED")], review_rules=[{"outcome": "reject", "name": "a"}]))
    template_id = names(graph)[0]["id"]
    for i in range(3):
        assert _edit(graph, template_id, f"Your order {{{{1}}}} ships in {i} days.").status_code == 200
        assert graph.get(template_id).json()["status"] == "REJECTED"


def test_an_edit_that_changes_nothing_is_refused_and_spends_no_quota(load):
    graph = load(seed_with([template("a")]))
    template_id = names(graph)[0]["id"]
    same = graph.get(template_id, fields="components").json()["components"]
    assert error_of(graph.post(template_id, json={"components": same})) == (100, None)
    assert graph.get(template_id).json()["status"] == "APPROVED"
    assert _edit(graph, template_id, "Your parcel {{1}} ships now.").status_code == 200  # the day's one edit is still there


def test_a_create_may_come_back_recategorised(load):
    graph = load(seed_with(review_rules=[{"outcome": "recategorize_at_create", "name": "promo_*", "to_category": "MARKETING"}]))
    answer = graph.create("promo_order", category="UTILITY").json()
    assert answer["category"] == "MARKETING"
    row = graph.get(answer["id"], fields="category,previous_category").json()
    assert row["category"] == "MARKETING" and "previous_category" not in row
    assert graph.create("order_news", category="UTILITY").json()["category"] == "UTILITY"


def test_edit_validates_content(load):
    graph = load(seed_with([template("a")]))
    template_id = names(graph)[0]["id"]
    assert error_of(graph.post(template_id, json={"components": [body("{{1}} leads here.", "a")]})) == (100, 2388299)


# --- delete ---------------------------------------------------------------------------------


def test_delete_by_name_removes_every_language(load):
    graph = load(seed_with([template("a"), template("a", language="es"), template("b")]))
    assert graph.delete(f"{WABA}/message_templates", name="a").json() == {"success": True}
    assert [r["name"] for r in names(graph)] == ["b"]


def test_delete_by_hsm_id_and_name_removes_one_language(load):
    graph = load(seed_with([template("a"), template("a", language="es")]))
    spanish = next(r for r in names(graph) if r["language"] == "es")
    assert graph.delete(f"{WABA}/message_templates", name="a", hsm_id=spanish["id"]).status_code == 200
    assert [(r["name"], r["language"]) for r in names(graph)] == [("a", "en_US")]
    assert error_of(graph.delete(f"{WABA}/message_templates", name="b", hsm_id=spanish["id"])) == (100, 2593002)


def test_delete_by_hsm_ids_is_all_or_nothing(load):
    graph = load(seed_with([template("a"), template("b")]))
    ids = [r["id"] for r in names(graph)]
    assert error_of(graph.delete(f"{WABA}/message_templates", hsm_ids=json.dumps(ids + ["42"]))) == (100, 2593002)
    assert len(names(graph)) == 2
    assert error_of(graph.delete(f"{WABA}/message_templates", hsm_ids=json.dumps(ids), name="a")) == (100, None)
    assert graph.delete(f"{WABA}/message_templates", hsm_ids=json.dumps(ids)).status_code == 200
    assert names(graph) == []


def test_delete_unknown_name_is_2593002(graph):
    assert error_of(graph.delete(f"{WABA}/message_templates", name="nothing")) == (100, 2593002)
    assert error_of(graph.delete(f"{WABA}/message_templates")) == (100, None)


def test_disabled_template_cannot_be_deleted(load):
    graph = load(seed_with([template("a", status="DISABLED")]))
    assert error_of(graph.delete(f"{WABA}/message_templates", name="a")) == (100, None)
    assert len(names(graph)) == 1


def test_deleting_approved_language_locks_it_for_thirty_days(load):
    graph = load(seed_with([template("a"), template("a", language="es", status="REJECTED")]))
    assert graph.delete(f"{WABA}/message_templates", name="a").status_code == 200
    assert error_of(graph.create("a")) == (100, 2388023)
    assert graph.create("a", language="es").status_code == 200  # was not approved: no lock
    graph.advance(29 * DAY)
    assert error_of(graph.create("a")) == (100, 2388023)
    graph.advance(DAY + 1)
    assert graph.create("a").status_code == 200


def test_short_propagation_lock_is_selectable(load):
    graph = load(seed_with([template("a", status="REJECTED")], propagation_lock_seconds=60))
    graph.delete(f"{WABA}/message_templates", name="a")
    assert error_of(graph.create("a")) == (100, 2388023)
    graph.advance(61)
    assert graph.create("a").status_code == 200


def test_form_body_with_json_strings_is_accepted(graph):
    response = graph.post(f"{WABA}/message_templates", data={
        "name": "form_made", "language": "en_US", "category": "UTILITY",
        "components": json.dumps([body("Your order {{1}} ships today.", "#1")]),
    })
    assert response.status_code == 200, response.text


def test_token_in_query_is_accepted_and_never_logged(emulator, load):
    graph = load(token=None)
    response = requests.get(f"{graph.url}/v26.0/{WABA}/message_templates",
                            params={"access_token": "test-token"}, timeout=10)
    assert response.status_code == 200
    entry = graph.log()[-1]
    assert entry["token"] == "query"
    assert "test-token" not in json.dumps(graph.log())


def _page_time(total_wabas: int) -> float:
    """Median time of one 100-row template page of one WABA, the emulator holding
    ``total_wabas`` x 100 templates in all."""
    seed = copy.deepcopy(BASE_SEED)
    rows = [template(f"t{i:03d}") for i in range(100)]
    seed["wabas"].update({f"66600000{i:07d}": {"name": str(i), "templates": rows} for i in range(total_wabas)})
    with Emulator(seed) as running:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        url = f"{running.url}/v26.0/666000000000000/message_templates"
        times = []
        for _ in range(15):
            started = time.perf_counter()
            assert session.get(url, params={"limit": 100, "summary": "total_count"}, timeout=10).status_code == 200
            times.append(time.perf_counter() - started)
        return statistics.median(times)


def test_a_page_costs_what_its_waba_holds_not_the_fleet():
    """The same page request against 1,000 and against 100,000 templates in the emulator: within 2x
    (an index per WABA, reviews looked at only when due), so a benchmark measures wabactl."""
    small, large = _page_time(10), _page_time(1000)
    assert large < 2 * small + 0.002, (small, large)


# --- listing filters and untidy paging -------------------------------------------------------


def _texts_seed():
    header = {"type": "HEADER", "format": "TEXT", "text": "Parcel news"}
    buttons = {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Track it"}]}
    return seed_with([
        template("order_shipped", components=[header, body("Your order {{1}} ships today.", "#1")]),
        template("order_delayed", components=[body("Sorry, order {{1}} is late.", "#1"), buttons]),
        template("welcome", category="MARKETING", components=[body("Hello and welcome to Acme, {{1}}!", "Ann")]),
    ])


def test_content_and_name_or_content_search_every_component_text(load):
    graph = load(_texts_seed())
    assert [r["name"] for r in names(graph, content="SHIPS today")] == ["order_shipped"]
    assert [r["name"] for r in names(graph, content="parcel")] == ["order_shipped"]  # header text
    assert [r["name"] for r in names(graph, content="track")] == ["order_delayed"]  # button text
    assert names(graph, content="order_shipped") == []  # content is not the name
    assert sorted(r["name"] for r in names(graph, name_or_content="welcome")) == ["welcome"]
    assert sorted(r["name"] for r in names(graph, name_or_content="order")) == ["order_delayed", "order_shipped"]
    assert sorted(r["name"] for r in names(graph, name_or_content="acme")) == ["welcome"]
    assert [r["name"] for r in names(graph, name="order", content="late")] == ["order_delayed"]


def test_name_filter_matches_part_of_the_name(load):
    graph = load(_texts_seed())
    assert sorted(r["name"] for r in names(graph, name="order_")) == ["order_delayed", "order_shipped"]
    assert [r["name"] for r in names(graph, name="come")] == ["welcome"]


def test_enum_filters_refuse_values_outside_meta_lists(load):
    graph = load(seed_with([template("a", quality_score={"score": "GREEN", "date": 1}), template("b")]))
    assert [r["name"] for r in names(graph, quality_score="green")] == ["a"]
    assert [r["name"] for r in names(graph, quality_score="GREEN,YELLOW")] == ["a"]
    assert {r["name"] for r in names(graph, source="MANUAL")} == {"a", "b"}
    assert names(graph, source="AUTO_GENERATED") == []
    for field, value in (("status", "LIVE"), ("category", "TRANSACTIONAL"), ("quality_score", "BLUE"),
                         ("source", "robot")):
        assert error_of(graph.get(f"{WABA}/message_templates", **{field: value})) == (100, None)


def test_since_and_until_filter_on_creation_time(load):
    graph = load(seed_with([
        template("old", created_time="2026-01-01T00:00:00Z"),
        template("mid", created_time=1780000000),  # 2026-05-28
    ]))
    graph.create("fresh")  # created at emulator time, 2026-11-01T09:00:00Z
    assert {r["name"] for r in names(graph, since="2026-03-01")} == {"mid", "fresh"}
    assert {r["name"] for r in names(graph, since=1780000000)} == {"mid", "fresh"}  # both ends included
    assert {r["name"] for r in names(graph, until="2026-06-01T00:00:00+00:00")} == {"old", "mid"}
    assert {r["name"] for r in names(graph, since="2026-02-01T00:00:00Z", until="1790000000")} == {"mid"}
    assert {r["name"] for r in names(graph, since="2026-11-01T09:00:00")} == {"fresh"}  # no zone: UTC
    graph.advance(3600)
    graph.create("later")
    assert {r["name"] for r in names(graph, since="2026-11-01T09:30:00Z")} == {"later"}
    assert error_of(graph.get(f"{WABA}/message_templates", since="last tuesday")) == (100, None)
    assert error_of(graph.get(f"{WABA}/message_templates", until="nan")) == (100, None)


def test_untidy_paging_gives_short_and_empty_pages_yet_every_row_once(load):
    graph = load(seed_with([template(f"t{i:02d}") for i in range(40)], untidy_paging=True))
    sizes, rows = [], []
    response = graph.get(f"{WABA}/message_templates", limit=6)
    while True:
        page = response.json()
        sizes.append(len(page["data"]))
        rows += [r["id"] for r in page["data"]]
        if "next" not in page["paging"]:
            break
        response = graph.session.get(page["paging"]["next"], timeout=10)
    assert 0 in sizes[:-1] and any(0 < s < 6 for s in sizes[:-1])  # empty and short pages with next
    assert sizes[:6] == [6, 3, 0, 3, 6, 0]
    assert len(rows) == 40 and len(set(rows)) == 40
    # Following the cursors instead of the links reads the same rows.
    by_cursor, after = [], None
    for _ in range(100):
        page = graph.get(f"{WABA}/message_templates", limit=6, **({"after": after} if after else {})).json()
        by_cursor += [r["id"] for r in page["data"]]
        if "next" not in page["paging"]:
            break
        after = page["paging"]["cursors"]["after"]
    assert by_cursor == rows


def test_wabactl_reads_every_row_through_untidy_pages(emulator, load):
    from reconciler.graph import GraphClient, waba

    load(seed_with([template(f"t{i:03d}") for i in range(130)] + [template("t000", language="es")],
                   untidy_paging=True, page_max=20))
    client = GraphClient(TOKEN, base_url=emulator.url)
    try:
        rows, count, limit = waba.fetch_templates(client, WABA)
        assert len(rows) == 131 and len({(t.template.name, t.template.language) for t in rows}) == 131
        assert (count, limit) == (130, 250)
        named, _, _ = waba.fetch_templates(client, WABA, name="t000")
        assert sorted(t.template.language for t in named) == ["en_US", "es"]
    finally:
        client.close()


def test_catalog_templates_need_a_connected_catalog(load):
    catalog = [body("Hello {{1}}, see our catalog.", "Ann"), {"type": "BUTTONS", "buttons": [{"type": "CATALOG", "text": "View catalog"}]}]
    graph = load(seed_with())
    refused = graph.create("shop_window", category="MARKETING", components=catalog)
    assert error_of(refused) == (100, None)
    seed = seed_with()
    seed["wabas"][WABA]["catalog_connected"] = True
    graph = load(seed)
    assert graph.create("shop_window", category="MARKETING", components=catalog).status_code == 200
