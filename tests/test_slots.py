"""Slots: at most ``size`` holders, and a freed slot goes to the longest waiter."""

from __future__ import annotations

import threading
import time

import pytest

from reconciler.graph.slots import Slots


def test_no_more_holders_than_slots():
    slots = Slots(3)
    held, most, lock = [0], [0], threading.Lock()

    def hold() -> None:
        with slots:
            with lock:
                held[0] += 1
                most[0] = max(most[0], held[0])
            time.sleep(0.005)
            with lock:
                held[0] -= 1

    threads = [threading.Thread(target=hold) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 3 and held[0] == 0


def test_a_freed_slot_goes_to_the_longest_waiter_not_back_to_who_freed_it():
    slots = Slots(1)
    order: list[str] = []
    slots.acquire()
    waiters = []
    for name in ("a", "b", "c"):
        def wait(name: str = name) -> None:
            with slots:
                order.append(name)
        thread = threading.Thread(target=wait)
        thread.start()
        waiters.append(thread)
        while len(slots._waiting) < len(waiters):  # each queued before the next starts
            time.sleep(0.001)
    slots.release()
    slots.acquire()  # the releaser asks again at once: it must queue behind a, b and c
    order.append("releaser")
    slots.release()
    for thread in waiters:
        thread.join()
    assert order == ["a", "b", "c", "releaser"]


def test_size_must_be_positive():
    with pytest.raises(ValueError):
        Slots(0)
