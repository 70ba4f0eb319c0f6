"""Request dependencies: the parts of the running gateway a route needs, from app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..chain.client import Chain
from ..chain.reader import ChainReader
from ..errors import ApiError
from ..read.unit_views import UnitViews, unit_views
from ..settings import Settings
from ..store.evidence import EvidenceStore
from ..store.index import SqliteIndex
from ..store.outbox import Outbox
from ..write.intake import Intake


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_chain(request: Request) -> Chain:
    return request.app.state.chain


def get_reader(request: Request) -> ChainReader:
    return request.app.state.reader


def get_outbox(request: Request) -> Outbox:
    return request.app.state.outbox


def get_intake(request: Request) -> Intake:
    if request.app.state.relayer is None:
        raise ApiError(503, "read_only", "this gateway has no relayer key (RT_RELAYER_KEY) and accepts no messages")
    return request.app.state.intake


SettingsDep = Annotated[Settings, Depends(get_settings)]
ChainDep = Annotated[Chain, Depends(get_chain)]
ReaderDep = Annotated[ChainReader, Depends(get_reader)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
IntakeDep = Annotated[Intake, Depends(get_intake)]


def get_index(request: Request) -> SqliteIndex:
    return request.app.state.index


def get_unit_views(request: Request) -> UnitViews:
    views = unit_views(request.app.state)  # also picks up app.state.evidence
    if views is None:
        raise ApiError(503, "index_unavailable", "this gateway has no index")
    return views


IndexDep = Annotated[SqliteIndex, Depends(get_index)]
UnitViewsDep = Annotated[UnitViews, Depends(get_unit_views)]


def get_evidence_store(request: Request) -> EvidenceStore:
    """The gateway's `EvidenceStore`, from ``request.app.state.evidence``."""
    store = getattr(request.app.state, "evidence", None)
    if store is None:
        # A wiring mistake, not a client error: fail loudly.
        raise RuntimeError("app.state.evidence is not set: the app factory must create the EvidenceStore")
    return store


EvidenceStoreDep = Annotated[EvidenceStore, Depends(get_evidence_store)]
