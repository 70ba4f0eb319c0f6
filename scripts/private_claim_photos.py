"""Make the photos of defect claims made before this release private to their orders; run it once, on the
gateway's machine, with the gateway's RT_* settings (docs/operations.md, Evidence store and IPFS).

    python -m scripts.private_claim_photos --dry-run    # what it would change; changes nothing
    python -m scripts.private_claim_photos

A claim puts its photo's digest on-chain and the digest names the photo's CID: a photo the gateway holds
as public evidence is anyone's to download. For every defect claim the gateway knows (indexed from the
chain, or accepted by it and not failed), a photo held as public evidence is made private to the claim's
order (read by its buyer, merchant side, auditors and the arbiter of its claim); then every private file
is unpinned from the IPFS node (RT_IPFS_API) that would serve it to anyone by CID. The local copies stay.
Run it again at will: what is done already is not done twice, and it says so.

Exit status: 0 done (or nothing to do), 1 the IPFS node failed to unpin some file (run it again), 2 the
settings or the gateway's files are missing.
"""

from __future__ import annotations

import argparse
import sys

from api.settings import Settings, SettingsError
from api.store.cases import CaseStore
from api.store.evidence.claim_photos import Report, known_claims, make_private
from api.store.evidence.store import EvidenceStore
from api.store.index import SqliteIndex
from api.store.outbox import SqliteOutbox


def describe(report: Report) -> list[str]:
    """The report as the command prints it: each change, then the counts."""
    would = report.dry_run
    lines = [
        f"{cid}: {'would be made' if would else 'made'} private to order{'s' * (len(orders) > 1)} "
        f"{', '.join(map(str, orders))} (was public evidence)"
        for cid, orders in report.made_private.items()
    ]
    lines += [
        f"{left.cid}: named by the claim of order {', '.join(map(str, left.orders))}, private to order "
        f"{', '.join(map(str, left.private_to))}: left as it is (a claim names a digest, not the bytes)"
        for left in report.left
    ]
    lines += [f"{cid}: {'would be unpinned' if would else 'unpinned'} from the IPFS node" for cid in report.unpinned]
    lines += [f"{cid}: the IPFS node failed: {why}" for cid, why in report.failed.items()]
    summary = (
        f"{report.claims} defect claim{'s' * (report.claims != 1)}, {report.photos} of their photos held here; "
        f"{'would make' if would else 'made'} {len(report.made_private)} private, "
        f"{'would unpin' if would else 'unpinned'} {len(report.unpinned)}"
    )
    if report.failed:
        summary += f"; {len(report.failed)} not unpinned: the node failed, run this again"
    elif not report.changed:
        summary += ": nothing to change"
    if report.unpinned and not would:
        summary += " (run `ipfs repo gc` on the node to free them: until then it still holds their blocks)"
    return [*lines, summary]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.private_claim_photos",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dry-run", action="store_true", help="report what would change; change nothing")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"private_claim_photos: {exc}", file=sys.stderr)
        return 2
    files = (settings.database, settings.index_database, settings.cases_database, settings.evidence_dir)
    missing = [str(path) for path in files if not path.exists()]
    if missing:  # opening them would make empty ones: this is not the gateway's machine, or RT_* say otherwise
        where = ", ".join(missing)
        print(f"private_claim_photos: not found: {where} (set RT_DATABASE, RT_EVIDENCE_DIR)", file=sys.stderr)
        return 2
    outbox, index = SqliteOutbox(settings.database), SqliteIndex(settings.index_database)
    cases = CaseStore(settings.cases_database)
    try:
        report = make_private(
            known_claims(index, outbox),
            cases,
            EvidenceStore(settings.evidence_dir, settings.ipfs_api, settings.max_upload_bytes),
            dry_run=args.dry_run,
        )
    finally:
        outbox.close()
        index.close()
        cases.close()
    print("\n".join(describe(report)))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
