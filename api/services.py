"""The running gateway's parts, built once by the app factory and reached by the routes through
`api.http.deps`: nothing is attached to `app.state` but this container, and nothing in it is
wired after construction.

    services = Services.open(settings)   # connects, opens the databases; starts no thread
    services.start()                     # the relayer and the indexers, as the settings say
    services.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from returntrace.assistant import Assistant
from returntrace.manifest import Manifest

from .chain.cache import PerBlock, Permanent
from .chain.client import Chain, LegacyDeployment
from .chain.guard import NodeGuard
from .chain.pages import PageReads
from .chain.product_terms import ProductTermsReads
from .chain.proofs import BlockReads
from .chain.reader import ChainReader
from .read.analytics import AnalyticsReader
from .read.indexer import Indexer
from .read.inspections import InspectionDesk
from .read.legacy import Legacy, index_path, legacy_deployments
from .read.names import Names
from .read.options import ReturnDesk
from .read.shipping import DocumentCards, ShippingDesk, SignedCardSource
from .read.unit_views import UnitViews
from .settings import Settings
from .store.buckets import TokenBuckets
from .store.cases import CaseStore
from .store.documents import SqliteDocuments
from .store.evidence import EvidenceStore
from .store.evidence.staging import References, Staging
from .store.index import SqliteIndex
from .store.outbox import OutboxNotDrained, SqliteOutbox
from .store.pickups import PickupStore
from .store.reason_codes import ReasonCodeStore
from .store.sessions import SessionStore
from .write.cases import CaseDesk
from .write.documents import DocumentDesk
from .write.intake import Intake
from .write.kinds import KINDS
from .write.relayer import Relayer


@dataclass(frozen=True)
class Services:
    settings: Settings
    chain: Chain  # the request path's client (RT_RPC_TIMEOUT)
    reader: ChainReader  # the intake's reads, on the request path's client
    outbox: SqliteOutbox
    index: SqliteIndex
    evidence: EvidenceStore
    staging: Staging  # uploads nothing references yet: kept RT_EVIDENCE_STAGING_TTL, within a byte budget
    documents: DocumentDesk  # signed off-chain documents, kept in the outbox's file
    intake: Intake
    relayer: Relayer | None  # None: no RT_RELAYER_KEY, the gateway only reads
    indexer: Indexer
    unit_views: UnitViews
    pages: PageReads  # the consumer page's token and block-time reads
    shipping: ShippingDesk  # quotes from the carriers' signed rate cards, combined returns, pickups
    pickups: PickupStore  # pickup bookings, in the outbox's file
    product_terms: ProductTermsReads  # a product's return terms per market, an order's dates (the pages)
    names: Names  # organisations' and products' signed names (the pages)
    legacy: tuple[Legacy, ...]  # previous deployments served read-only (RT_LEGACY_MANIFESTS)
    assistant: Assistant  # the return assistant's model, loaded once (returntrace/assistant)
    options: ReturnDesk  # the buyer's options from the chain (api/read/options.py)
    inspections: InspectionDesk  # an inspection's grade and payouts before it is signed (api/read/inspections.py)
    assess_limit: TokenBuckets  # POST /v1/assistant/assess per client (RT_ASSESS_RATE, RT_ASSESS_BURST)
    signin_limit: TokenBuckets  # GET /v1/auth/nonce per client (RT_SIGNIN_RATE, RT_SIGNIN_BURST)
    upload_limit: TokenBuckets  # POST /v1/evidence per client (RT_UPLOAD_RATE, RT_UPLOAD_BURST)
    sessions: SessionStore  # Sign-In with Ethereum's nonces and sessions (api/http/auth)
    cases: CaseDesk  # the return desk's cases, on their own file (RT_DATABASE's stem + .cases.sqlite3)
    analytics: AnalyticsReader  # return figures from the index and the signed documents (api/read/analytics.py)
    reason_codes: ReasonCodeStore  # the buyers' confirmed reason codes, in the cases' file (api/store/reason_codes.py)

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Everything the gateway runs on, from `settings`; no thread is started. A manifest that is
        not the current schema, a wrong legacy manifest, or an outbox holding another deployment's
        messages stops it here, before anything is served."""
        # One web3 client per timeout profile. Requests (intake checks, pages, readiness) wait
        # RT_RPC_TIMEOUT; the relayer and the indexers wait longer, on their own client: a frozen
        # node holds a worker's round, never a request (docs/operations.md, Configuration).
        request_w3, worker_w3 = settings.request_rpc.web3(settings.rpc_url), settings.worker_rpc.web3(settings.rpc_url)
        manifest = Manifest.load(settings.manifest)
        chain = Chain.on(request_w3, manifest)
        previous = legacy_deployments([Manifest.load(path) for path in settings.legacy_manifests], worker_w3)
        worker_chain = Chain.on(worker_w3, manifest)
        outbox = SqliteOutbox(settings.database)
        try:
            outbox.bind(chain.deployment)
        except OutboxNotDrained:
            outbox.close()
            raise
        index = SqliteIndex(settings.index_database)
        documents = SqliteDocuments(settings.database, f"{chain.chain_id}:{chain.registry.address.lower()}")
        evidence = EvidenceStore(settings.evidence_dir, settings.ipfs_api, settings.max_upload_bytes)
        cases = CaseDesk(
            chain,
            CaseStore(settings.cases_database),
            index,
            public_url=settings.public_url,
            sla_hours=settings.case_sla_hours,
            sla_urgent_hours=settings.case_sla_urgent_hours,
            retention_days=settings.text_retention_days,
            safety_contacts=settings.safety_contact_of,
        )
        # One cache per purpose (api/chain/cache.py): policy versions, read by the intake, the relayer's
        # follow-ups and the pages alike; the pages' reads at the indexed block, with one guard for the node.
        policies, guard, per_block = Permanent(), NodeGuard(), PerBlock()
        reads = BlockReads.of(chain, guard, per_block, policies)  # the current deployment at a stated block
        reader = ChainReader(chain, policies)
        paths = {kind: entry.path for kind, entry in KINDS.items()}  # where each signed kind is posted
        relayer = None
        if settings.relayer_key:
            relayer = Relayer(
                chain=worker_chain,
                outbox=outbox,
                private_key=settings.relayer_key,
                batch_max_events=settings.batch_max_events,
                interval=settings.batch_interval,
                pause_before_broadcast=settings.pause_before_broadcast,
                reader=ChainReader(worker_chain, policies),
            )
        legacy = tuple(
            cls._open_legacy(
                d,
                settings,
                BlockReads(request_w3.eth.contract(address=d.registry.address, abi=d.registry.abi), guard, per_block),
                evidence,
            )
            for d in previous
        )
        reason_codes = ReasonCodeStore(settings.cases_database)
        staging = Staging(
            evidence,
            partial(evidence_references, outbox, documents, (index, *(item.index for item in legacy))),
            settings.evidence_staging_ttl,
            settings.evidence_staging_max_bytes,
            hold=outbox.writes_held,
            account_bytes=settings.evidence_staging_account_bytes,
        )
        return cls(
            settings=settings,
            chain=chain,
            reader=reader,
            outbox=outbox,
            index=index,
            evidence=evidence,
            staging=staging,
            documents=DocumentDesk(reader, documents),
            intake=Intake(
                reader, outbox, settings.min_deadline_margin, evidence=evidence, private=cases.store, index=index
            ),
            relayer=relayer,
            # This process's indexer reads (its block for /readyz) and indexes on demand (index_once);
            # the one that follows the chain runs in a process of its own (start).
            indexer=Indexer(
                worker_chain, index, settings.index_interval, settings.index_block_range, settings.index_confirmations
            ),
            unit_views=UnitViews(
                index,
                reads,
                settings.public_url,
                evidence=evidence,
                previous=tuple(item.views for item in legacy),
            ),
            pages=PageReads(request_w3, guard),
            # Signed rate cards are the one quote source today; a rating service is another QuoteSource here.
            shipping=ShippingDesk(
                reads, chain.chain_id, chain.escrow.address, [SignedCardSource(DocumentCards(documents), reads)], index
            ),
            pickups=PickupStore(settings.database),
            product_terms=ProductTermsReads(chain, guard),
            names=Names(documents, index),
            legacy=legacy,
            assistant=Assistant.load(),
            options=ReturnDesk(chain, reads, reader, outbox, paths),
            inspections=InspectionDesk(chain, reads, reader, outbox, paths),
            assess_limit=TokenBuckets(settings.assess_rate, settings.assess_burst),
            signin_limit=TokenBuckets(settings.signin_rate, settings.signin_burst),
            upload_limit=TokenBuckets(settings.upload_rate, settings.upload_burst),
            sessions=SessionStore(settings.cases_database),
            cases=cases,
            analytics=AnalyticsReader(index, documents, reads, reason_codes),
            reason_codes=reason_codes,
        )

    @staticmethod
    def _open_legacy(d: LegacyDeployment, settings: Settings, reads: BlockReads, evidence: EvidenceStore) -> Legacy:
        """A legacy deployment's index and indexer (not started, on the worker client) and its views,
        whose reads (on the request client) share the current deployment's guard and cache: a node
        that stopped answering is given up on once."""
        index = SqliteIndex(index_path(settings.database, d))
        indexer = Indexer(d, index, settings.index_interval, settings.index_block_range, settings.index_confirmations)
        return Legacy(
            d, index, indexer, UnitViews(index, reads, settings.public_url, evidence=evidence, deployment=d.deployment)
        )

    def start(self) -> None:
        """The background workers the settings turn on (RT_RELAY, RT_INDEX); the buyers' texts past
        their retention period are purged first, pending safety notifications tried again, and staged evidence
        past its time deleted."""
        self.cases.purge()
        self.staging.sweep()
        self.cases.deliver()
        if self.relayer is not None and self.settings.relay:
            self.relayer.start()
        if self.settings.index:
            # The child needs no relayer key: it only reads the chain and writes the index file.
            self.indexer.start_in_process(partial(indexer_for, self.settings.model_copy(update={"relayer_key": None})))
            for item in self.legacy:  # registries no longer written: little to follow
                item.indexer.start()

    def close(self) -> None:
        self.indexer.stop()
        for item in self.legacy:
            item.close()
        if self.relayer is not None:
            self.relayer.stop()
        self.outbox.close()
        self.documents.store.close()
        self.pickups.close()
        self.index.close()
        self.cases.store.close()
        self.sessions.close()
        self.reason_codes.close()
        self.staging.close()


def evidence_references(
    outbox: SqliteOutbox, documents: SqliteDocuments, indexes: tuple[SqliteIndex, ...], digests: list[str]
) -> References:
    """Which of `digests` keep a staged upload (Staging.references): for good, those a confirmed message, a
    signed document's CIDs or an indexed chain record (this deployment's or a previous one's) carries; while
    they are on their way, those of accepted or submitted messages. A failed message keeps nothing."""
    kept = outbox.evidence_referenced(digests, ("confirmed",)) | documents.evidence_referenced(digests)
    for index in indexes:
        with index.read() as r:
            kept |= r.evidence_referenced(digests)
    return References(kept, outbox.evidence_referenced(digests, ("accepted", "submitted")) - kept)


def indexer_for(settings: Settings) -> Indexer:
    """The indexer of a gateway with these settings, on a worker client and the index file of its own
    (what Services.start runs in a child process: Worker.start_in_process)."""
    chain = Chain.on(settings.worker_rpc.web3(settings.rpc_url), Manifest.load(settings.manifest))
    return Indexer(
        chain,
        SqliteIndex(settings.index_database),
        settings.index_interval,
        settings.index_block_range,
        settings.index_confirmations,
    )
