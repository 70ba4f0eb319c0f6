"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from ..deps import ServicesDep
from ..responses import HealthOut, ReadyOut

router = APIRouter(tags=["health"])

MIN_RELAYER_BALANCE_WEI = 10**16


@router.get("/healthz", response_model=HealthOut, summary="The process is up")
def healthz() -> HealthOut:
    return HealthOut(status="ok")


# Fields are answered only when they apply (`error` and `detail` with the node unreachable).
@router.get(
    "/readyz",
    response_model=ReadyOut,
    response_model_exclude_unset=True,
    responses={503: {"model": ReadyOut, "description": "Not ready"}},
    summary="Chain reachable, relayer funded, outbox depth, indexer lag",
)
def readyz(state: ServicesDep, response: Response) -> ReadyOut:
    checks: dict[str, Any] = {"outbox": state.outbox.depth()}
    ready = True
    try:
        head = state.chain.w3.eth.block_number  # the request-path client: a frozen node fails within its timeout
        checks["chain"] = {"reachable": True, "block": head, "chainId": state.chain.chain_id}
    except Exception as exc:  # any failure to reach the node means not ready
        head = None
        checks["chain"] = {"reachable": False, "error": f"{type(exc).__name__}: {exc}"}
        # The gateway's error shape beside the checks, as a refused post carries it.
        checks.update(error="chain_unavailable", detail=f"the chain node did not answer: {type(exc).__name__}")
        ready = False
    relayer = state.relayer
    if relayer is None:
        checks["relayer"] = {"enabled": False}
    else:
        entry: dict[str, Any] = {"enabled": True, "address": relayer.address, "lastError": relayer.last_error}
        if head is not None:
            balance = state.chain.w3.eth.get_balance(relayer.address)
            entry.update(balanceWei=str(balance), funded=balance >= MIN_RELAYER_BALANCE_WEI)
            ready &= balance >= MIN_RELAYER_BALANCE_WEI
        checks["relayer"] = entry
    checks["indexer"] = _indexer_check(state.indexer, head)
    # Previous deployments' registries (RT_LEGACY_MANIFESTS), read through the same node.
    checks["legacyIndexers"] = [
        {"registry": legacy.deployment.registry.address, **_indexer_check(legacy.indexer, head)}
        for legacy in state.legacy
    ]
    response.status_code = 200 if ready else 503
    return ReadyOut.model_validate({"ready": ready, **checks})


def _indexer_check(indexer: Any, head: int | None) -> dict[str, Any]:
    indexed = indexer.indexed_block()
    return {"indexedBlock": indexed, "lagBlocks": None if head is None or indexed is None else max(0, head - indexed)}
