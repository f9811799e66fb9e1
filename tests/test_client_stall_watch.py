"""The body pump's stall timer (vvtui/clients/base.py: one timer per body, re-armed only when it
fires): a quiet body is a stall, a trickling one is not, and a cancellation from outside is
never mistaken for a stall."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from vvtui.clients import base
from vvtui.clients.base import _End, _Handoff, _pump


class Body:
    """Just what the pump uses of an httpx response: reads after the given pauses."""

    def __init__(self, pauses: list[float]) -> None:
        self.pauses = pauses

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        for pause in self.pauses:
            await asyncio.sleep(pause)
            yield b"x"


async def pumped(pauses: list[float], stall_s: float) -> list[Any]:
    handoff = _Handoff()
    await _pump(Body(pauses), handoff, stall_s, 1 << 20)  # type: ignore[arg-type]
    return list(handoff.items)


async def test_reads_closer_than_the_stall_time_never_stall():
    # Eight reads 40 ms apart: 320 ms in all, longer than the 100 ms stall time.
    items = await pumped([0.04] * 8, 0.1)
    assert len(items) == 9 and isinstance(items[-1], _End) and items[-1].kind == "eof"


async def test_a_quiet_body_stalls_once_the_stall_time_passes_since_the_last_read():
    loop = asyncio.get_running_loop()
    started = loop.time()
    items = await pumped([0.01, 0.06, 10.0], 0.1)
    end = items[-1]
    assert isinstance(end, _End) and end.kind == "stall" and "0.1" in end.detail
    assert len(items) == 3  # the two reads, then the stall
    assert 0.16 <= loop.time() - started < 5.0


async def test_a_cancellation_from_outside_is_not_a_stall():
    handoff = _Handoff()
    task = asyncio.create_task(_pump(Body([10.0]), handoff, 0.05, 1 << 20))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not handoff.items


async def test_a_cancellation_from_outside_as_the_stall_fires_still_propagates(monkeypatch):
    fire = base._StallWatch._check

    def fire_then_cancel_from_outside(watch: base._StallWatch) -> None:
        fire(watch)
        watch._task.cancel()  # lands in the same loop iteration, before the pump runs

    monkeypatch.setattr(base._StallWatch, "_check", fire_then_cancel_from_outside)
    handoff = _Handoff()
    task = asyncio.create_task(_pump(Body([10.0]), handoff, 0.05, 1 << 20))  # type: ignore[arg-type]
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled() and not handoff.items


async def test_the_reader_takes_queued_reads_in_order_and_waits_for_more():
    handoff = _Handoff()
    handoff.put(1)
    handoff.put(2)
    assert await handoff.get() == 1 and await handoff.get() == 2
    waiter = asyncio.create_task(handoff.get())
    await asyncio.sleep(0)
    assert not waiter.done()
    handoff.put(3)
    assert await waiter == 3
