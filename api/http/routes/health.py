"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import ServicesDep

router = APIRouter(tags=["health"])

MIN_RELAYER_BALANCE_WEI = 10**16


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Chain reachable, relayer funded, outbox depth, indexer lag")
def readyz(state: ServicesDep) -> JSONResponse:
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
    checks["legacyIndexers"] = [{"registry": legacy.deployment.registry.address, **_indexer_check(legacy.indexer, head)} for legacy in state.legacy]
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


def _indexer_check(indexer: Any, head: int | None) -> dict[str, Any]:
    indexed = indexer.indexed_block()
    return {"indexedBlock": indexed, "lagBlocks": None if head is None or indexed is None else max(0, head - indexed)}
