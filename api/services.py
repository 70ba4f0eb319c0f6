"""The running gateway's parts, built once by the app factory and reached by the routes through
`api.http.deps`: nothing is attached to `app.state` but this container, and nothing in it is
wired after construction.

    services = Services.open(settings)   # connects, opens the databases; starts no thread
    services.start()                     # the relayer and the indexers, as the settings say
    services.close()
"""

from __future__ import annotations

from dataclasses import dataclass

from .chain.client import Chain, LegacyDeployment, RpcProfile
from .chain.reader import ChainReader
from .read.indexer import Indexer
from .read.legacy import Legacy, index_path, legacy_deployments
from .read.proofs import ChainReads, ChainRecords, OrderLinks, PageReads
from .read.unit_views import UnitViews
from .settings import Settings
from .store.evidence import EvidenceStore
from .store.index import SqliteIndex
from .store.outbox import OutboxNotDrained, SqliteOutbox
from .write.intake import Intake
from .write.relayer import Relayer


@dataclass(frozen=True)
class Services:
    settings: Settings
    chain: Chain  # the request path's client (RT_RPC_TIMEOUT)
    reader: ChainReader  # the intake's reads, on the request path's client
    outbox: SqliteOutbox
    index: SqliteIndex
    evidence: EvidenceStore
    intake: Intake
    relayer: Relayer | None  # None: no RT_RELAYER_KEY, the gateway only reads
    indexer: Indexer
    unit_views: UnitViews
    pages: PageReads  # the consumer page's currency and block-time reads
    legacy: tuple[Legacy, ...]  # previous deployments served read-only (RT_LEGACY_MANIFESTS)

    @classmethod
    def open(cls, settings: Settings) -> "Services":
        """Everything the gateway runs on, from `settings`; no thread is started. A manifest that is
        not the current schema, a wrong legacy manifest, or an outbox holding another deployment's
        messages stops it here, before anything is served."""
        request_rpc, worker_rpc = settings.request_rpc, settings.worker_rpc
        chain = Chain.connect(settings.rpc_url, settings.manifest, request_rpc)
        previous = legacy_deployments(settings.legacy_manifests, settings.rpc_url, worker_rpc)
        # The relayer and the indexer wait longer for the node, on web3 clients of their own: a
        # frozen node holds a worker's round, never a request (docs/operations.md, Configuration).
        worker_chain = Chain.connect(settings.rpc_url, settings.manifest, worker_rpc)
        outbox = SqliteOutbox(settings.database)
        try:
            outbox.bind(chain.deployment)
        except OutboxNotDrained:
            outbox.close()
            raise
        index = SqliteIndex(settings.database)
        evidence = EvidenceStore(settings.evidence_dir, settings.ipfs_api, settings.max_upload_bytes)
        reader = ChainReader(chain)
        relayer = None
        if settings.relayer_key:
            relayer = Relayer(
                chain=worker_chain, outbox=outbox, private_key=settings.relayer_key, batch_max_events=settings.batch_max_events,
                interval=settings.batch_interval, pause_before_broadcast=settings.pause_before_broadcast, reader=ChainReader(worker_chain),
            )
        # The pages' on-chain reads of every deployment share one cache and one fast-fail guard.
        reads = ChainReads()
        legacy = tuple(cls._open_legacy(d, settings, request_rpc, reads, evidence) for d in previous)
        records = ChainRecords(settings.rpc_url, chain.registry.address, request_rpc, reads=reads)
        links = OrderLinks(settings.rpc_url, chain, request_rpc, reads=reads)
        return cls(
            settings=settings, chain=chain, reader=reader, outbox=outbox, index=index, evidence=evidence,
            intake=Intake(reader, outbox, settings.min_deadline_margin, index=index),
            relayer=relayer,
            indexer=Indexer(worker_chain, index, settings.index_interval, settings.index_block_range, settings.index_confirmations),
            unit_views=UnitViews(index, records, settings.public_url, evidence=evidence, links=links, previous=tuple(item.views for item in legacy)),
            pages=PageReads(chain, reads),
            legacy=legacy,
        )

    @staticmethod
    def _open_legacy(d: LegacyDeployment, settings: Settings, rpc: RpcProfile, reads: ChainReads, evidence: EvidenceStore) -> Legacy:
        """A legacy deployment's index and indexer (not started) and its views, whose registry reads go
        through `reads`: the current deployment's, on the same node, so a node that stopped answering
        is given up on once."""
        index = SqliteIndex(index_path(settings.database, d))
        indexer = Indexer(d, index, settings.index_interval, settings.index_block_range, settings.index_confirmations)
        records = ChainRecords(settings.rpc_url, d.registry.address, rpc, reads=reads)
        return Legacy(d, index, indexer, UnitViews(index, records, settings.public_url, evidence=evidence, deployment=d.deployment))

    def start(self) -> None:
        """The background workers the settings turn on (RT_RELAY, RT_INDEX)."""
        if self.relayer is not None and self.settings.relay:
            self.relayer.start()
        if self.settings.index:
            for indexer in (self.indexer, *(item.indexer for item in self.legacy)):
                indexer.start()

    def close(self) -> None:
        self.indexer.stop()
        for item in self.legacy:
            item.close()
        if self.relayer is not None:
            self.relayer.stop()
        self.outbox.close()
        self.index.close()
