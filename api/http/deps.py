"""Request dependencies: the parts of the running gateway a route needs, from its services
container (`app.state.services`, an api.services.Services built once by the app factory)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Request

from ..chain.client import Chain
from ..chain.reader import ChainReader
from ..errors import ApiError
from ..read.shipping import ShippingDesk
from ..read.unit_views import UnitViews
from ..services import Services
from ..settings import Settings
from ..store.evidence import EvidenceStore
from ..store.index import SqliteIndex
from ..store.outbox import Outbox
from ..store.pickups import PickupStore
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


def public_url(request: Request) -> str:
    """The URL this gateway is reached at: RT_PUBLIC_URL (behind a proxy, the proxy's), else the request's own."""
    services = getattr(request.app.state, "services", None)
    return services.settings.public_url if services is not None else str(request.base_url).rstrip("/")


T = TypeVar("T")


def _part(name: str, pick: Callable[[Services], T]) -> Callable[[Services], T]:
    """A dependency that hands a route one part of the services container."""

    def part(services: ServicesDep) -> T:
        return pick(services)

    part.__name__ = part.__qualname__ = name  # tracebacks name the part, not the factory
    return part


get_settings = _part("get_settings", lambda s: s.settings)
get_chain = _part("get_chain", lambda s: s.chain)
get_reader = _part("get_reader", lambda s: s.reader)
get_outbox = _part("get_outbox", lambda s: s.outbox)
get_index = _part("get_index", lambda s: s.index)
get_unit_views = _part("get_unit_views", lambda s: s.unit_views)
get_evidence_store = _part("get_evidence_store", lambda s: s.evidence)
get_document_desk = _part("get_document_desk", lambda s: s.documents)
get_shipping_desk = _part("get_shipping_desk", lambda s: s.shipping)
get_pickups = _part("get_pickups", lambda s: s.pickups)
get_cases = _part("get_cases", lambda s: s.cases)


def get_intake(services: ServicesDep) -> Intake:
    if services.relayer is None:
        raise ApiError(503, "read_only", "this gateway has no relayer key (RT_RELAYER_KEY) and accepts no messages")
    return services.intake


SettingsDep = Annotated[Settings, Depends(get_settings)]
ChainDep = Annotated[Chain, Depends(get_chain)]
ReaderDep = Annotated[ChainReader, Depends(get_reader)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
IntakeDep = Annotated[Intake, Depends(get_intake)]
IndexDep = Annotated[SqliteIndex, Depends(get_index)]
UnitViewsDep = Annotated[UnitViews, Depends(get_unit_views)]
EvidenceStoreDep = Annotated[EvidenceStore, Depends(get_evidence_store)]
DocumentDeskDep = Annotated[DocumentDesk, Depends(get_document_desk)]
ShippingDeskDep = Annotated[ShippingDesk, Depends(get_shipping_desk)]
PickupsDep = Annotated[PickupStore, Depends(get_pickups)]
CaseDeskDep = Annotated[CaseDesk, Depends(get_cases)]
