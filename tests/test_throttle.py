"""Pacing from Meta's usage headers: requests slow down above 90% and speed up again."""

from __future__ import annotations

import json

from reconciler.graph import GraphClient
from reconciler.graph.retry import RetryPolicy
from reconciler.graph.throttle import APP, Throttle

from conftest import WABA, seed_with

OTHER = "222"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def business(object_id: str, percent: int) -> dict[str, str]:
    return {"X-Business-Use-Case-Usage": json.dumps({object_id: [{"type": "whatsapp_business_management", "call_count": percent,
                                                                  "total_cputime": 1, "total_time": 1}]})}


def throttle() -> tuple[Throttle, Clock]:
    clock = Clock()
    return Throttle(sleep=clock.sleep, clock=lambda: clock.now), clock


def test_below_90_percent_nothing_waits():
    paced, clock = throttle()
    paced.after(business(WABA, 89))
    for _ in range(5):
        paced.before(f"/v26.0/{WABA}/message_templates")
    assert clock.slept == []


def test_above_90_percent_requests_of_that_waba_are_spaced_and_others_are_not():
    paced, clock = throttle()
    paced.after(business(WABA, 96))
    for _ in range(3):
        paced.before(f"/v26.0/{WABA}/message_templates")
    paced.before(f"/v26.0/{OTHER}/message_templates")
    assert clock.slept == [3.0, 3.0] and paced.spacing(WABA) == 3.0 and paced.waited == 6.0


def test_usage_going_down_lifts_the_spacing():
    paced, clock = throttle()
    paced.after(business(WABA, 100))
    paced.before(f"/v26.0/{WABA}/x")
    paced.after(business(WABA, 40))
    paced.before(f"/v26.0/{WABA}/x")
    paced.before(f"/v26.0/{WABA}/x")
    assert clock.slept == []


def test_app_usage_spaces_every_request_and_unreadable_headers_steer_nothing():
    paced, clock = throttle()
    paced.after({"X-App-Usage": json.dumps({"call_count": 92, "total_cputime": 0, "total_time": 0}),
                 "X-Business-Use-Case-Usage": "not json"})
    assert paced.spacing(APP) == 1.0
    paced.before("/v26.0/me")
    paced.before(f"/v26.0/{OTHER}/x")
    assert clock.slept == [1.0]


def test_a_client_reading_the_emulator_s_headers_slows_down_near_the_limit(load, emulator):
    load(seed_with(calls_per_hour=20))
    paced = Throttle()
    client = GraphClient("test-token", base_url=emulator.url, retry=RetryPolicy(backoff=0.01), throttle=paced)
    for _ in range(18):  # 90% of the hour's 20 calls
        client.get(WABA, {"fields": "name"})
    assert paced.waited == 0.0
    client.get(WABA, {"fields": "name"})  # the 19th reports 95%
    assert paced.spacing(WABA) > 0
