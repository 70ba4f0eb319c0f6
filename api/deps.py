"""Request dependencies: the parts of the running gateway a route needs, from app.state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .chain import Chain, ChainReader
from .db.index import SqliteIndex
from .db.outbox import Outbox
from .errors import ApiError
from .intake import Intake
from .settings import Settings
from .unit_view import UnitViews, unit_views


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
