"""Request dependencies: the parts of the running gateway a route needs, from its services
container (`app.state.services`, an api.services.Services built once by the app factory)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..chain.client import Chain
from ..chain.reader import ChainReader
from ..errors import ApiError
from ..read.unit_views import UnitViews
from ..services import Services
from ..settings import Settings
from ..store.evidence import EvidenceStore
from ..store.index import SqliteIndex
from ..store.outbox import Outbox
from ..write.cases import CaseDesk
from ..write.documents import DocumentDesk
from ..write.intake import Intake


def get_services(request: Request) -> Services:
    services = getattr(request.app.state, "services", None)
    if services is None:
        # A wiring mistake, not a client error: fail loudly.
        raise RuntimeError("app.state.services is not set: the app factory must build the gateway's Services")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_settings(services: ServicesDep) -> Settings:
    return services.settings


def get_chain(services: ServicesDep) -> Chain:
    return services.chain


def get_reader(services: ServicesDep) -> ChainReader:
    return services.reader


def get_outbox(services: ServicesDep) -> Outbox:
    return services.outbox


def get_intake(services: ServicesDep) -> Intake:
    if services.relayer is None:
        raise ApiError(503, "read_only", "this gateway has no relayer key (RT_RELAYER_KEY) and accepts no messages")
    return services.intake


def get_index(services: ServicesDep) -> SqliteIndex:
    return services.index


def get_unit_views(services: ServicesDep) -> UnitViews:
    return services.unit_views


def get_evidence_store(services: ServicesDep) -> EvidenceStore:
    return services.evidence


def get_document_desk(services: ServicesDep) -> DocumentDesk:
    return services.documents


def get_cases(services: ServicesDep) -> CaseDesk:
    return services.cases


SettingsDep = Annotated[Settings, Depends(get_settings)]
ChainDep = Annotated[Chain, Depends(get_chain)]
ReaderDep = Annotated[ChainReader, Depends(get_reader)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
IntakeDep = Annotated[Intake, Depends(get_intake)]
IndexDep = Annotated[SqliteIndex, Depends(get_index)]
UnitViewsDep = Annotated[UnitViews, Depends(get_unit_views)]
EvidenceStoreDep = Annotated[EvidenceStore, Depends(get_evidence_store)]
DocumentDeskDep = Annotated[DocumentDesk, Depends(get_document_desk)]
CaseDeskDep = Annotated[CaseDesk, Depends(get_cases)]
