"""Previous deployments the gateway serves read-only (RT_LEGACY_MANIFESTS).

A redeploy (issue 9: contracts v2) leaves the units recorded under the old registry behind. Their
pages stay verified: each legacy manifest's registry is indexed into a file of its own (derived
data, beside the database) by the Indexer in registry-only mode, and the unit views fall back to
it, in order, for a unit the current deployment does not know (UnitViews.previous), proving it
with that registry's `unitRecord`. Nothing is accepted for a legacy deployment, and its escrow's
orders are not read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from returntrace.manifest import Manifest, ManifestError

from ..chain.client import LegacyDeployment
from ..store.index import SqliteIndex
from .indexer import Indexer
from .unit_views import UnitViews


def legacy_deployments(manifests: Iterable[Manifest], w3: Any) -> list[LegacyDeployment]:
    """The deployments of these manifests (RT_LEGACY_MANIFESTS), on the client `w3`. Reads no chain;
    raises ManifestError for a manifest that is not a previous deployment's, or names a registry
    another one names (two indexers would share its index file)."""
    out: list[LegacyDeployment] = []
    for manifest in manifests:
        d = LegacyDeployment.on(w3, manifest)
        path = manifest.path
        if any((o.chain_id, o.registry.address) == (d.chain_id, d.registry.address) for o in out):
            raise ManifestError(f"{path} names registry {d.registry.address}, which another legacy manifest names")
        out.append(d)
    return out


def index_path(database: Path, d: LegacyDeployment) -> Path:
    """A legacy registry's index file, beside the gateway's database (derived: deleting it re-indexes)."""
    return database.with_name(f"{database.stem}.legacy-{d.chain_id}-{d.registry.address}.sqlite3")


@dataclass
class Legacy:
    """One legacy deployment as the gateway serves it: its index, its indexer and its unit views."""

    deployment: LegacyDeployment
    index: SqliteIndex
    indexer: Indexer
    views: UnitViews

    def close(self) -> None:
        self.indexer.stop()
        self.index.close()
