"""The walk of one signed event (docs/contributors.md, The walk of one signed event), traced as it
runs: HTTP body → checks → outbox → transaction → contract → log → indexer → view → page, each step
in its module, and no call going up from a lower room of the gateway to a higher one. import-linter
holds the imports to the rooms' order (make lint); this holds the calls that actually happen,
callbacks included, which no import shows."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from fastapi.testclient import TestClient

from api.main import create_app
from returntrace.vocab import BizStep, Disposition
from tests.api.conftest import Gateway
from tests.support import GTIN

# The rooms from the top (pyproject.toml, [tool.importlinter]): a call goes to its own room or lower.
ROOMS = {"main": 0, "http": 1, "services": 2, "settings": 3, "write": 4, "read": 4, "chain": 5, "store": 5, "errors": 6}

# Each step of the walk and the module that does it, in order.
WALK = (
    ("HTTP body", "api.http.routes.messages"),
    ("checks", "api.write.intake"),
    ("outbox", "api.store.outbox"),
    ("transaction", "api.write.relayer"),
    ("indexer", "api.read.indexer"),
    ("index rows", "api.store.index"),
    ("view", "api.read.unit_views"),
    ("proof at the indexed block", "api.chain.proofs"),
    ("page route", "api.http.routes.resolver"),
    ("page words", "api.http.pages.consumer_page"),
)


def _room(module: str) -> str:
    return module.split(".")[1]


class Calls:
    """Every call from one api module into another, in order, on every thread of the process."""

    def __init__(self) -> None:
        self.entered: list[str] = []  # callee modules, in the order first entered
        self.edges: set[tuple[str, str, str]] = set()  # (caller module, callee module, callee function)

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        callee = frame.f_globals.get("__name__", "")
        if not callee.startswith("api."):
            return
        if callee not in self.entered:
            self.entered.append(callee)
        caller = frame.f_back.f_globals.get("__name__", "") if frame.f_back else ""
        if caller.startswith("api.") and caller != callee:
            self.edges.add((caller, callee, frame.f_code.co_qualname))

    @contextmanager
    def tracing(self) -> Iterator[None]:
        sys.setprofile(self)
        threading.setprofile(self)  # the app's request threads start inside
        try:
            yield
        finally:
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]


def test_one_signed_event_walks_one_module_per_step_and_never_up_a_room(gateway_settings, deployment, actors):
    calls = Calls()
    with calls.tracing(), TestClient(create_app(gateway_settings)) as client:
        gateway = Gateway(client, deployment, actors)
        (unit,) = gateway.commission("WALK-1")
        gateway.relay()
        body = gateway.events_body("brand", [gateway.event(unit, BizStep.SHIPPING, "brand", Disposition.IN_TRANSIT)])
        calls.entered.clear()  # the walk from here; the start-up's and the commissioning's calls stay in edges
        assert gateway.post("/v1/events", body).status_code == 202
        gateway.relay()
        gateway.services.indexer.index_once()
        page = client.get(f"/01/{GTIN}/21/WALK-1")
        assert page.status_code == 200 and "Verified" in page.text, page.text[:500]

    positions = [calls.entered.index(module) if module in calls.entered else -1 for _, module in WALK]
    missing = [step for (step, _), at in zip(WALK, positions, strict=True) if at < 0]
    assert not missing, f"steps not taken by their module: {missing}"
    # The write side's steps come in order; the read side's (indexer, then the page) after them.
    assert positions[:4] == sorted(positions[:4]), calls.entered
    assert positions[4] < positions[6] and positions[8] < positions[9], calls.entered

    upward = sorted(
        (caller, callee, function)
        for caller, callee, function in calls.edges
        if ROOMS[_room(callee)] < ROOMS[_room(caller)]
        or {_room(caller), _room(callee)} in ({"write", "read"}, {"chain", "store"})
    )
    assert not upward, f"calls from a lower room up, or across a room's side: {upward}"
