"""What the consumer page shows: a UnitView (api/read/views.py) turned into plain words a parent reads.

Pure presentation, no I/O: the resolver passes in how to name a currency and when a block was
mined (both read from the chain and cached there), so this module is tested with constructed views.
The registry's timeline holds the unit's lifecycle events in chain order; the escrow's (and the
reissue desk's) return request, inspection, dispute and settlement of the unit's latest order are
merged into it here by chain position (block, log index) — never by time, which two events in the
same second share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_skeleton
from babel.numbers import format_decimal

from returntrace.escrow import OrderStatus, ReturnReason
from returntrace.vocab import BizStep, step_label

from ...read.names import Named
from ...read.views import ParcelView, ReturnStatus, Settlement, TimelineEntry, UnitView
from .i18n import N_, _, current, ngettext
from .product_info import NameLookup, ProductCard, product_card


@dataclass(frozen=True)
class Currency:
    symbol: str
    decimals: int


NATIVE = Currency("ETH", 18)

# CSS class of a step's marker: where the unit is in its life.
STEP_KIND = {
    "commissioning": "made",
    "accepting": "return",
    "receiving": "return",
    "inspecting": "inspect",
    "destroying": "end",
    "decommissioning": "end",
}
FINAL_DISPOSITION = {"donated": N_("Donated"), "recycled": N_("Recycled")}
# What a disposition tells a parent; dispositions that repeat the step's label say nothing more.
DISPOSITION_TEXT = {
    "damaged": N_("Condition: damaged"),
    "conformant": N_("Condition: as new"),
    "non_conformant": N_("Condition: not as new"),
    "sellable_accessible": N_("Back on sale"),
    "sellable_not_accessible": N_("In stock, not on sale"),
    "non_sellable_other": N_("Not for sale"),
    "expired": N_("Expired"),
    "recalled": N_("Recalled"),
    "needs_replacement": N_("Needs replacement"),
    "disposed": N_("Disposed of"),
    "retail_sold": N_("Sold"),
}
FACT_TEXT = {
    "seal_intact": N_("Seal intact"),
    "packaging_intact": N_("Packaging intact"),
    "used": N_("Used"),
    "defective": N_("Defective"),
}
DISPOSITION_KIND = {"donated": "donate", "recycled": "recycle", "destroyed": "end", "returned": "return"}

GRADE_MEANING = {"A": N_("unopened, seal intact"), "B": N_("opened but unused"), "C": N_("used")}
UNIT_FATE = {
    "restock": N_("Back to the brand's stock"),
    "donate": N_("A local charity (donated)"),
    "recycle": N_("Recycling"),
    "destroy": N_("Destruction"),
}
# What a parent reads for each order status and return reason (ReturnStatus.status and .reason are their keys).
STATUS_TEXT = {
    OrderStatus.ACTIVE.key: N_("Bought — no return requested"),
    OrderStatus.RETURN_REQUESTED.key: N_("Return requested — waiting for the return center"),
    OrderStatus.INSPECTED.key: N_("Inspected — the buyer may accept or contest the grade"),
    OrderStatus.DISPUTED.key: N_("Disputed — an independent arbiter decides"),
    OrderStatus.SETTLED.key: N_("Settled"),
    OrderStatus.COMPLETED.key: N_("Completed — no return; paid out to the brand"),
    OrderStatus.CANCELLED.key: N_("Cancelled — not delivered in time, refunded"),
    OrderStatus.SECOND_INSPECTION.key: N_("Second inspection by an independent inspector pending"),
    OrderStatus.REFUNDED.key: N_("Refunded — the unit's inspection decides where it goes"),
    OrderStatus.DEFECT_CLAIMED.key: N_("Defect reported — waiting for the brand's decision"),
    OrderStatus.REISSUE_APPROVED.key: N_("Defect confirmed — a replacement is on its way"),
    OrderStatus.REISSUED.key: N_("Replaced — the replacement was delivered"),
}
REASON_TEXT = {
    ReturnReason.WITHDRAWAL.key: N_("Changed mind (statutory withdrawal)"),
    ReturnReason.DEFECTIVE.key: N_("Defective"),
    ReturnReason.NOT_AS_DESCRIBED.key: N_("Not as described"),
    ReturnReason.WRONG_ITEM.key: N_("Wrong item"),
    ReturnReason.DAMAGED_IN_TRANSIT.key: N_("Damaged in transit"),
    ReturnReason.NO_LONGER_NEEDED.key: N_("No longer needed"),
    ReturnReason.OTHER.key: N_("Other"),
}
STATUTORY_BASIS = {
    "EU": N_("EU consumer law (Directive 2011/83/EU right of withdrawal)"),
    "CN": N_("Chinese consumer law (7-day no-reason return, Consumer Rights Protection Law Art. 25)"),
}
ROLE_NAMES = {
    "brand": N_("brand"),
    "carrier": N_("carrier"),
    "warehouse": N_("return center"),
    "inspector": N_("inspector"),
    "charity": N_("charity"),
    "recycler": N_("recycler"),
}


def format_amount(base_units: str | int, currency: Currency) -> str:
    """`1050000000000000000` at 18 decimals → `1.05 ETH`: at least two decimals, no trailing noise."""
    value = Decimal(int(base_units)).scaleb(-currency.decimals)
    lang = current()
    if lang.code != "en":  # the language's decimal sign and grouping: 1.234,50 ETH in German
        shown = format_decimal(value.normalize(), format="#,##0.00", locale=lang.locale, decimal_quantization=False)
        return f"{shown} {currency.symbol}"
    text = format(value.normalize(), "f") if value else "0"
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(2, "0")
    return f"{int(whole):,}.{frac} {currency.symbol}"


def format_time(ts: int | None) -> tuple[str | None, str | None]:
    """(`3 May 2026, 14:05 UTC`, ISO 8601) of a unix time in the page's language; (None, None) for none."""
    if not ts:
        return None, None
    t = datetime.fromtimestamp(int(ts), tz=UTC)
    lang = current()
    day = f"{t.day} {t:%b %Y}" if lang.code == "en" else format_skeleton("yMMMd", t, locale=lang.locale)
    return f"{day}, {t:%H:%M} UTC", t.isoformat().replace("+00:00", "Z")


def lower_first(text: str) -> str:
    """Text that continues a sentence: its first letter in lower case, except in German, whose nouns
    keep their capital ("eine örtliche gemeinnützige Organisation", never "organisation")."""
    return text if current().code == "de" else text[:1].lower() + text[1:]


def text_of(table: dict[str, str], key: str) -> str:
    """A table's text for `key` in the page's language; a key the table lacks, humanised."""
    return _(table[key]) if key in table else humanize(key)


def short_address(address: str | None) -> str:
    if not address:
        return ""
    return f"{address[:6]}…{address[-4:]}" if address.startswith("0x") and len(address) == 42 else address


def humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def is_cid(evidence: str | None) -> bool:
    return bool(evidence) and not str(evidence).startswith("0x")


def split_evidence(evidence: str | None) -> tuple[str | None, str | None]:
    """(CID, None) when the evidence store knows the file, (None, 0x digest) when only the digest is
    on-chain, (None, None) for no evidence (None or an all-zero digest)."""
    if not evidence:
        return None, None
    if is_cid(evidence):
        return str(evidence), None
    try:
        return (None, str(evidence)) if int(str(evidence), 16) else (None, None)
    except ValueError:
        return None, str(evidence)


@dataclass
class Step:
    label: str
    kind: str = "transit"
    when: str | None = None
    when_iso: str | None = None
    by: str | None = None  # "carrier 0x1234…abcd"
    by_full: str | None = None
    place: str | None = None  # GLN
    by_role: str | None = None  # "carrier", in the page's language
    by_name: Named | None = None  # the signer's organisation, named by the accreditor (with its proof)
    place_name: Named | None = None  # the location's name, by its GLN
    lines: list[str] = field(default_factory=list)
    grade: str | None = None
    grade_meaning: str | None = None
    evidence_cid: str | None = None
    evidence_digest: str | None = None
    block: int | None = None
    tx_hash: str | None = None
    position: tuple[int, int] | None = None  # (block, log index) of the log that recorded it


@dataclass
class Row:
    term: str
    value: str
    emphasis: bool = False
    named: Named | None = None  # a name in the value, whose proof the page links


@dataclass
class Page:
    title: str
    gtin: str
    serial: str
    brand: str
    brand_full: str
    hygiene_sealed: bool
    digital_link: str
    verified: bool
    banner: str
    banner_detail: str
    steps: list[Step]
    return_rows: list[Row]
    has_order: bool
    grade: str | None
    # What the buyer may still do, best offer first: ("Exchange for a voucher worth …", detail)
    return_options: list[Row] = field(default_factory=list)
    # Links between a defective unit and its replacement: (text, href or None, verified note)
    unit_links: list[Row] = field(default_factory=list)
    fate: list[Row] = field(default_factory=list)  # "Donated to …", "Lifecycle closed"
    unit_link_hrefs: list[str | None] = field(default_factory=list)
    deployment_note: str | None = None  # a unit of a previous deployment, served read-only (UnitView.deployment)
    policy: Any = None  # the order's return policy with its dates (policy_page.MarketSection), read by the route
    brand_name: Named | None = None  # the brand's organisation, named by the accreditor
    product: ProductCard | None = None  # the brand's signed product information
    party: bool = False  # the viewer is the order's party: its amounts and return reason are shown


def _inspection_grade(rs: ReturnStatus | None) -> str | None:
    if rs is None:
        return None
    if rs.settlement is not None and rs.settlement.grade:
        return rs.settlement.grade
    if rs.inspection:
        return rs.inspection.get("derivedGrade") or rs.inspection.get("claimedGrade")
    return None


def _grade_letter(value: Any) -> str | None:
    if value in (None, "", 0, "0", "none", "None"):
        return None
    text = str(value).strip().upper()
    return {"1": "A", "2": "B", "3": "C"}.get(text, text)


def _grade_meaning(grade: str) -> str | None:
    return _(GRADE_MEANING[grade]) if grade in GRADE_MEANING else None


def _facts(facts: list[str]) -> str:
    """An inspection's facts as one phrase: "Seal intact, packaging intact"."""
    words = [humanize(_(FACT_TEXT[f]) if f in FACT_TEXT else f) for f in facts]
    return ", ".join(lower_first(w) if i else w for i, w in enumerate(words))


def _step_label(step: str) -> str:
    """What a step is called when the view gave no label: the registry vocabulary's word (returntrace.vocab)."""
    try:
        return _(step_label(BizStep[step.upper()]))
    except KeyError:
        return humanize(step)


def _role(role: str) -> str:
    return _(ROLE_NAMES[role]) if role in ROLE_NAMES else role


def _by(role: str, signer: str | None) -> str:
    """ "carrier 0x1234…abcd": who signed, by role."""
    return f"{_role(role)} {short_address(signer)}".strip()


def _registry_step(e: TimelineEntry) -> Step:
    when, when_iso = format_time(e.event_time)
    kind = DISPOSITION_KIND.get(e.disposition or "") or STEP_KIND.get(e.step, "transit")
    step = Step(
        label=_(e.label) if e.label else _step_label(e.step),
        kind=kind,
        when=when,
        when_iso=when_iso,
        by=_by(e.signer_role, e.signer),
        by_role=_role(e.signer_role),
        by_full=e.signer,
        place=e.location,
        block=e.block,
        tx_hash=e.tx_hash,
        position=(e.block, e.log_index if e.log_index is not None else 0),
    )
    if e.action is not None and e.parcel:  # packed into / unpacked from a parcel: name it (its page is /00/<sscc>)
        step.label = _("%(step)s %(parcel)s") % {"step": step.label, "parcel": e.parcel}
        step.kind = "transit"
    elif e.via_parcel and e.parcel:  # a scan of the parcel the unit was in: one link of the parcel's chain
        step.lines.append(_("via parcel %(parcel)s") % {"parcel": e.parcel})
    if e.disposition in FINAL_DISPOSITION:  # a charity's or recycler's receipt: say what happened to the unit
        step.lines.append(step.label)
        step.label = _(FINAL_DISPOSITION[e.disposition])
    elif e.disposition in DISPOSITION_TEXT:
        step.lines.append(_(DISPOSITION_TEXT[e.disposition]))
    step.evidence_cid, step.evidence_digest = split_evidence(e.evidence)
    return step


def _event(rs: ReturnStatus, *names: str) -> dict[str, Any] | None:
    """The latest escrow event of the order with one of these names (ReturnStatus.events)."""
    found = [e for e in rs.events if e.get("name") in names]
    return found[-1] if found else None


def _event_time(
    event: dict[str, Any] | None, block_time: Callable[[int], int | None], block: int | None = None
) -> int | None:
    if event is not None and event.get("time"):
        return int(event["time"])
    block = event.get("block") if event is not None else block
    return block_time(int(block)) if block is not None else None


def _at(step: Step, ts: int | None, event: dict[str, Any] | None = None) -> Step:
    step.when, step.when_iso = format_time(ts)
    if event is not None:
        step.block, step.tx_hash = event.get("block"), event.get("txHash")
        if event.get("block") is not None:
            step.position = (int(event["block"]), int(event.get("logIndex") or 0))
    return step


def _merge(registry: list[Step], escrow: list[Step]) -> list[Step]:
    """The registry's steps in their chain order, each escrow step before the first registry step
    recorded after it (block, log index); an escrow step with no known position goes last."""
    placed = sorted((s for s in escrow if s.position is not None), key=lambda s: s.position)  # type: ignore[arg-type, return-value]
    out: list[Step] = []
    i = 0
    for r in registry:
        while i < len(placed) and r.position is not None and placed[i].position < r.position:  # type: ignore[operator]
            out.append(placed[i])
            i += 1
        out.append(r)
    return out + placed[i:] + [s for s in escrow if s.position is None]


def _escrow_steps(
    rs: ReturnStatus,
    grade: str | None,
    currency: Currency,
    inspected: list[Step],
    block_time: Callable[[int], int | None],
    party: bool = True,
) -> list[Step]:
    """Return request, inspection, dispute and settlement of the order, as timeline steps; without
    `party`, no amount and no reason (the return's or the arbiter's), only that the rules settled it."""
    steps: list[Step] = []

    def add(step: Step) -> Step:
        steps.append(step)
        return step

    requested = _event(rs, "ReturnRequested")
    if rs.requested_at or requested:
        reason = text_of(REASON_TEXT, rs.reason) if rs.reason and party else None
        add(
            _at(
                Step(
                    label=_("Return requested"),
                    kind="return",
                    lines=[_("Reason: %(reason)s") % {"reason": reason}] if reason else [],
                ),
                rs.requested_at or _event_time(requested, block_time),
                requested,
            )
        )

    if rs.inspection:
        submitted = _event(rs, "InspectionSubmitted")
        if inspected:  # the inspector's signed scan in the registry: add the attested grade to it
            target = inspected[-1]
        else:  # the inspector attested to the escrow only: show that attestation
            target = add(_at(Step(label=_("Inspected"), kind="inspect"), _event_time(submitted, block_time), submitted))
            inspector = rs.inspection.get("inspector")
            if inspector:
                target.by, target.by_full, target.by_role = _by("inspector", inspector), inspector, _role("inspector")
        claimed = _grade_letter(rs.inspection.get("claimedGrade"))
        shown = claimed or grade
        if shown:
            target.grade, target.grade_meaning = shown, _grade_meaning(shown)
        facts = _facts(rs.inspection.get("facts") or [])
        if facts:
            target.lines.append(_("Found: %(facts)s") % {"facts": facts})
        if not (target.evidence_cid or target.evidence_digest):
            target.evidence_cid, target.evidence_digest = split_evidence(rs.inspection.get("evidence"))

    disputed = _event(rs, "OrderDisputed")
    if disputed is not None and rs.dispute:
        d = rs.dispute
        label = _(DISPUTE_OPENED[d["openedBy"]]) if d["openedBy"] in DISPUTE_OPENED else _("Dispute opened")
        if d["openedBy"] == "buyer" and rs.inspection:
            label = _("Grade contested by the buyer")
        lines = (
            [_("The attested facts did not match the claimed grade.")] if d["openedBy"] == "inspection_mismatch" else []
        )
        by = format_time(d.get("decideBy"))[0]
        lines.append(
            _("An independent arbiter decides by %(time)s; if it does not, the attested facts decide.") % {"time": by}
            if by
            else _("An independent arbiter decides; if it does not, the attested facts decide.")
        )
        add(_at(Step(label=label, kind="inspect", lines=lines), _event_time(disputed, block_time), disputed))
        resolution = d.get("resolution")
        resolved = _event(rs, "DisputeResolved")
        if resolution and resolved is not None:
            step = add(
                _at(Step(label=_("Arbiter decided"), kind="inspect"), _event_time(resolved, block_time), resolved)
            )
            decided = _grade_letter(resolution.get("grade"))
            if decided:
                step.grade, step.grade_meaning = decided, _grade_meaning(decided)
            step.lines.append(
                _("Facts as the arbiter found them: %(facts)s")
                % {"facts": _facts(resolution.get("facts") or []) or _("none")}
            )
            if resolution.get("reason") and party:
                step.lines.append(_("Reason: %(reason)s") % {"reason": humanize(resolution["reason"])})
            step.evidence_cid, step.evidence_digest = split_evidence(resolution.get("evidence"))
        lapsed = _event(rs, "DisputeLapsed")
        if lapsed is not None:
            add(
                _at(
                    Step(
                        label=_("The arbiter did not decide in time"),
                        kind="inspect",
                        lines=[_("The attested facts decide.")],
                    ),
                    _event_time(lapsed, block_time),
                    lapsed,
                )
            )

    if rs.settlement is not None:
        s = rs.settlement
        refund, points = int(s.refund), int(s.points)
        if rs.status == "cancelled":
            label = _("Cancelled and refunded")
        elif s.disposition == "kept" and refund == 0:
            label = _("Paid to the brand")
        elif refund > 0:
            label = _("Refunded")
        elif points > 0:
            label = _("Compensated with store points")
        else:
            label = _("Settled without refund")
        settled = _event(rs, *SETTLEMENT_EVENT_NAMES)
        step = add(_at(Step(label=label, kind="refund"), _event_time(settled, block_time, s.block), settled))
        step.block, step.tx_hash = s.block, s.tx_hash
        if s.log_index is not None:
            step.position = (s.block, s.log_index)
        step.lines += settlement_lines(s, currency) if party else [_(SETTLED_BY_RULES)]
        if s.disposition not in ("kept", "pending") and rs.status != "cancelled":
            step.lines.append(
                _("The unit goes to: %(fate)s") % {"fate": lower_first(text_of(UNIT_FATE, s.disposition))}
            )
    return steps


# What anyone but the order's parties reads of a settlement (issue 11 §3: amounts are the buyer's and merchant's).
SETTLED_BY_RULES = N_("The refund was settled by the market's return rules.")

SETTLEMENT_EVENT_NAMES = ("OrderSettled", "OrderCompleted", "OrderCancelled")
DISPUTE_OPENED = {
    "buyer": N_("Dispute opened by the buyer"),
    "merchant": N_("Dispute opened by the brand"),
    "inspection_mismatch": N_("Sent to an arbiter"),
}
# What decided a settlement, by the escrow's settlement path (api/read/settlements.py `kind`).
SETTLED_BY = {
    "arbitrated": N_("An independent arbiter, on the facts it found"),
    "arbiter_silent": N_("The arbiter did not decide in time: the inspector's attested facts"),
    "overdue": N_(
        "The statutory refund deadline passed: the attested facts, or the full refund of an uninspected unit"
    ),
    "uninspected": N_("Buyer protection: the unit was not inspected in time, so everything was refunded"),
    "on_receipt": N_("Refunded when an approved return center received the unit"),
    "dispatched": N_("Buyer protection: a carrier's scan proves the unit was sent back; it never arrived"),
    "unit_closed": N_("Buyer protection: the unit was closed while the order held it, so everything was refunded"),
    "reissue_failed": N_("The replacement never came: everything refunded, the buyer keeps the defective unit"),
}


RIGHT_LOST = N_(
    "Returned within the statutory period, but the unit's state (an opened hygiene seal, or use where "
    "the law requires good condition) lost the statutory right"
)


def deduction_text(d: dict[str, Any], parts: dict[str, Any], currency: Currency) -> str:
    """One deduction with its reason, as a parent reads it."""
    amount = format_amount(d["amount"], currency)
    reason = d["reason"]
    if reason == "grade_terms":
        price = int(parts["price"])
        share = f"{(price - int(d['amount'])) * 100 / price if price else 0:.4g}"
        why = (
            _("the brand's grade %(grade)s terms refund %(share)s %% of the price")
            % {"grade": parts["grade"], "share": share}
            if parts.get("grade")
            else _("the brand's grade terms refund %(share)s %% of the price") % {"share": share}
        )
    elif reason == "diminished_value":
        why = _("diminished value of a used unit (the law allows this deduction)")
    elif reason == "delivery_not_refunded":
        why = _("delivery is refunded only for a statutory withdrawal where the law requires it")
    elif reason == "return_shipping":
        why = _("return shipping, which the buyer bears under the return policy")
    else:
        why = humanize(reason)
    return f"− {amount}: {why}"


def settlement_lines(s: Settlement, currency: Currency) -> list[str]:
    """A settlement as its parts: what was paid, each deduction and why, what came back, points."""
    p = s.parts
    refund, points = int(s.refund), int(s.points)
    if not p or not p.get("verified"):
        lines = [_("%(amount)s back to the buyer") % {"amount": format_amount(refund, currency)}] if refund else []
        if points:
            lines.append(_("Store points worth %(amount)s") % {"amount": format_amount(points, currency)})
        if p:  # the parts did not add up to the escrow's totals: say so rather than explain wrongly
            lines.append(_("Breakdown not verified: the order's terms do not explain the escrow's amounts"))
        return lines
    lines = [
        _("Paid %(price)s + %(delivery)s delivery")
        % {"price": format_amount(p["price"], currency), "delivery": format_amount(p["deliveryFee"], currency)}
    ]
    if p.get("basis") == "right_lost":
        lines.append(_(RIGHT_LOST))
    lines += [deduction_text(d, p, currency) for d in p.get("deductions") or []]
    if s.disposition == "kept":
        lines.append(
            _("%(amount)s to the brand; the buyer keeps the unit")
            % {"amount": format_amount(p["merchantAmount"], currency)}
        )
        return lines
    voucher = int(p.get("voucher") or 0)
    if voucher:
        bonus = int(p.get("exchangeBonus") or 0)
        values = {"voucher": format_amount(voucher, currency), "bonus": format_amount(bonus, currency)}
        lines.append(
            _(
                "= a voucher of store points worth %(voucher)s, including a %(bonus)s bonus (the buyer chose the "
                "exchange)"
            )
            % values
            if bonus
            else _("= a voucher of store points worth %(voucher)s (the buyer chose the exchange)") % values
        )
    else:
        lines.append(_("= %(amount)s back to the buyer") % {"amount": format_amount(refund, currency)})
    if points - voucher > 0:
        lines.append(_("Store points worth %(amount)s") % {"amount": format_amount(points - voucher, currency)})
    return lines


def name_steps(steps: list[Step], names: NameLookup) -> None:
    """Who signed each step and where, by the names the accreditor signed (the numbers stay for the title)."""
    # One read for all (the same few signers sign most steps); lists, not generators, so that the read
    # room never runs a frame of this one (tests/api/test_walk.py).
    by = names.actors([s.by_full for s in steps])
    at = names.organizations([s.place for s in steps])
    for s in steps:
        s.by_name = by.get(s.by_full)
        s.place_name = at.get(s.place)


def build_page(
    view: UnitView,
    currency_of: Callable[[str], Currency] = lambda _: NATIVE,
    block_time: Callable[[int], int | None] = lambda _: None,
    names: NameLookup | None = None,
    *,
    party: bool = False,
) -> Page:
    """The page of `view`; with `party` (the viewer is the order's buyer, merchant side or an auditor:
    the route decides) the order's amounts and return reason too, without it the lifecycle only."""
    rs = view.return_status
    grade = _grade_letter(_inspection_grade(rs))
    currency = currency_of(rs.currency) if rs else NATIVE

    timeline = list(view.timeline)  # chain order already: a parcel's scans carry the parcel chain's seq
    steps = [_registry_step(e) for e in timeline]
    inspected = [s for s, e in zip(steps, timeline, strict=True) if e.step == "inspecting"]
    if rs is not None:
        steps = _merge(steps, _escrow_steps(rs, grade, currency, inspected, block_time, party))

    v = view.verification
    if v.verified:
        banner = (
            _("Verified on-chain at block %(block)s") % {"block": f"{v.block:,}"}
            if v.block is not None
            else _("Verified on-chain")
        )
        count = v.onchain_count if v.onchain_count is not None else v.rebuilt_count
        detail = ngettext(
            "The %(count)s recorded event matches the unit's record on the blockchain.",
            "All %(count)s recorded events match the unit's record on the blockchain.",
            int(count or 0),
        ) % {"count": count}
    else:
        banner = _("Not verified: %(reason)s") % {
            "reason": v.reason or _("the history could not be checked against the blockchain")
        }
        detail = _("Do not rely on this history until it is verified. The product may still be genuine.")
    fate_rows = _fate_rows(view, names)

    page = Page(
        title=_("Unit %(serial)s of GTIN %(gtin)s") % {"serial": view.serial, "gtin": view.gtin},
        gtin=view.gtin,
        serial=view.serial,
        brand=short_address(view.brand),
        brand_full=view.brand,
        hygiene_sealed=view.hygiene_sealed,
        digital_link=view.digital_link,
        verified=v.verified,
        banner=banner,
        banner_detail=detail,
        steps=steps,
        return_rows=_return_rows(rs, grade, currency, party) if rs else [],
        has_order=rs is not None,
        grade=grade,
        return_options=_return_options(rs, currency) if rs and party else [],
        party=party,
        fate=fate_rows,
        deployment_note=_(LEGACY_NOTE) if (view.deployment or {}).get("readOnly") else None,
        **_unit_links(view),
    )
    if names is not None:
        name_steps(page.steps, names)
        page.brand_name = names.actor(view.brand)
        page.product = product_card(names.product(view.gtin))
    return page


LEGACY_NOTE = N_("Recorded under the previous deployment (read-only)")


FATE_TEXT = {
    "donated": N_("Donated to"),
    "recycled": N_("Recycled by"),
    "destroyed": N_("Destroyed"),
    "decommissioned": N_("Taken out of circulation"),
}


def _fate_rows(view: UnitView, names: NameLookup | None = None) -> list[Row]:
    """Where the unit went when a partner's (or the return center's) scan closed its lifecycle, and
    whether the registry says it is closed (the closed flag of the record the banner verified)."""
    rows: list[Row] = []
    f = view.fate
    if f:
        when = format_time(f.get("time"))[0]
        on = _(" on %(time)s") % {"time": when} if when else ""
        org = f.get("organization")
        what = _(FATE_TEXT[f["kind"]]) if f["kind"] in FATE_TEXT else _("Closed")
        if f["kind"] in ("donated", "recycled"):
            named = names.organization(org or f.get("location")) if names is not None else None
            if named is not None:
                who = named.text
            elif org:
                who = _("organisation GLN %(gln)s") % {"gln": org}
            else:
                who = _("the partner at location %(gln)s") % {"gln": f.get("location")}
            if org:  # which record names the organisation: the one in force when the partner signed, or today's
                who_note = (
                    _(" (the partner's organisation when it signed)")
                    if f.get("organizationAtEvent")
                    else _(" (the partner's organisation as recorded now)")
                )
            else:
                who_note = ""
            rows.append(Row(_("Where it went"), f"{what} {who}{on}{who_note}", emphasis=True, named=named))
        else:
            at = _(" at location %(gln)s") % {"gln": f["location"]} if f.get("location") else ""
            rows.append(Row(_("Where it went"), f"{what}{on}{at}", emphasis=True))
    if view.closed and view.verification.verified:
        rows.append(
            Row(
                _("Lifecycle"),
                _("Lifecycle closed: the registry accepts no further event for this unit (checked on-chain)"),
            )
        )
    elif view.closed:
        rows.append(Row(_("Lifecycle"), _("Lifecycle closed (not verified)")))
    return rows


@dataclass
class ParcelPage:
    sscc: str
    digital_link: str
    verified: bool
    banner: str
    banner_detail: str
    contents_note: str
    contents: list[Any]
    steps: list[Step]


def build_parcel_page(view: ParcelView) -> ParcelPage:
    """The /00/<sscc> page: the parcel's verified history and its content, proved on-chain."""
    v = view.verification
    ok = v.verified and view.contents_verified
    if ok:
        banner = _("Verified on-chain at block %(block)s") % {"block": f"{v.block:,}"}
        detail = _("All %(count)s recorded events of the parcel match its record on the blockchain.") % {
            "count": v.onchain_count
        }
    else:
        banner = _("Not verified: %(reason)s") % {
            "reason": v.reason or view.contents_reason or _("the parcel could not be checked against the blockchain")
        }
        detail = _("Do not rely on this history or content until it is verified.")
    n = len(view.contents)
    if view.contents_verified:
        note = ngettext(
            "%(n)s unit, proved on-chain: it names this parcel as its parent, and the parcel holds exactly %(size)s.",
            "%(n)s units, proved on-chain: each names this parcel as its parent, and the parcel holds exactly "
            "%(size)s.",
            n,
        ) % {"n": n, "size": view.onchain_size}
    else:
        note = ngettext(
            "%(n)s unit as indexed; not proved on-chain: %(reason)s.",
            "%(n)s units as indexed; not proved on-chain: %(reason)s.",
            n,
        ) % {"n": n, "reason": view.contents_reason or _("unknown reason")}
    steps = [_registry_step(e) for e in view.timeline]
    for s, e in zip(steps, view.timeline, strict=True):
        if e.action is not None:
            s.label = _("Units packed") if e.action == "ADD" else _("Units unpacked")
    return ParcelPage(view.sscc, view.digital_link, ok, banner, detail, note, view.contents, steps)


def _return_options(rs: ReturnStatus, currency: Currency) -> list[Row]:
    """While a return is possible: the exchange voucher first when the policy offers it, then the refund."""
    o = rs.return_options
    if not o:
        return []
    until = format_time(o.get("closesAt"))[0]
    rows = []
    if o.get("exchangeOffered") and o.get("voucher"):
        bonus = int(o.get("exchangeBonusBps") or 0)
        values = {"voucher": format_amount(o["voucher"], currency), "bonus": f"{bonus / 100:g}"}
        rows.append(
            Row(
                _("Exchange"),
                _("Exchange for a voucher worth %(voucher)s (+%(bonus)s %% bonus)") % values
                if bonus
                else _("Exchange for a voucher worth %(voucher)s") % values,
                emphasis=True,
            )
        )
    rows.append(Row(_("Refund"), _("Refund %(amount)s") % {"amount": format_amount(o["refund"], currency)}))
    if o.get("refundOnReturn"):
        rows.append(
            Row(_("When"), _("Your money is released as soon as an approved return center scans the parcel in"))
        )
    if o.get("freePickup"):
        rows.append(Row(_("Pickup"), _("The brand collects the return at your door")))
    if o.get("statutory"):
        rows.append(
            Row(_("Your right"), _("Within the statutory withdrawal period: the law sets the least you get back"))
        )
    if until:
        rows.append(Row(_("Until"), until))
    return rows


def _unit_links(view: UnitView) -> dict[str, Any]:
    rows: list[Row] = []
    hrefs: list[str | None] = []

    def add(prefix: str, ref: dict[str, Any] | None, verified: bool, reason: str | None) -> None:
        if not ref:
            return
        # Named only when the index's GTIN and serial hash to the proved id (UnitViews._unit_ref).
        name = (
            _("GTIN %(gtin)s / serial %(serial)s") % {"gtin": ref["gtin"], "serial": ref["serial"]}
            if ref.get("serial")
            else _("%(unit)s (name not verified)") % {"unit": ref.get("unitId")}
        )
        note = _("checked on-chain") if verified else _("not verified: %(reason)s") % {"reason": reason}
        rows.append(Row(prefix, f"{name} ({note})", emphasis=verified))
        hrefs.append(ref.get("link"))

    rs = view.return_status
    if rs is not None and rs.reissue and rs.reissue.get("replacement"):
        add(_("Replaced by"), rs.reissue["replacement"], bool(rs.reissue.get("verified")), rs.reissue.get("reason"))
    if view.replacement_for:
        add(
            _("Replacement for"),
            view.replacement_for.get("original"),
            bool(view.replacement_for.get("verified")),
            view.replacement_for.get("reason"),
        )
    return {"unit_links": rows, "unit_link_hrefs": hrefs}


def _proof_row(proof: dict[str, Any]) -> Row:
    """Whether the order's state was checked against ReturnEscrow.order, and at which block."""
    block = proof.get("block")
    return Row(
        _("Order state"),
        _("checked on-chain at block %(block)s") % {"block": f"{block:,}"}
        if proof.get("verified") and block is not None
        else _("not verified: %(reason)s") % {"reason": proof.get("reason")},
    )


def _return_rows(rs: ReturnStatus, grade: str | None, currency: Currency, party: bool = True) -> list[Row]:
    """The order's state; without `party` (anyone who scans the code) its lifecycle, grade and the
    unit's fate only, and that the rules settled the refund: never an amount or the return's reason."""
    rows = [
        Row(_("Order"), f"#{rs.order_id} ({rs.market})"),
        Row(_("Status"), text_of(STATUS_TEXT, rs.status), emphasis=True),
    ]
    if party:
        rows += _private_rows(rs, grade, currency)
    elif grade:
        rows.append(_grade_row(grade))
    rows += _lifecycle_rows(rs)
    s = rs.settlement
    if s is None:
        return rows
    if party:
        return rows + _settlement_rows(rs, s, grade, currency)
    rows.append(Row(_("Refund"), _(SETTLED_BY_RULES), emphasis=True))
    if s.disposition == "kept":
        rows.append(Row(_("Where the unit goes"), _("The buyer keeps it")))
    elif s.disposition != "pending":
        rows.append(Row(_("Where the unit goes"), text_of(UNIT_FATE, s.disposition)))
    return rows


def _grade_row(grade: str) -> Row:
    meaning = _grade_meaning(grade)
    return Row(_("Grade"), f"{grade} — {meaning}" if meaning else grade, emphasis=True)


def _private_rows(rs: ReturnStatus, grade: str | None, currency: Currency) -> list[Row]:
    """The order's parties' rows before its lifecycle: paid, the reason, grade, voucher, a refund released."""
    rows = []
    rows.append(
        Row(
            _("Paid"),
            _("%(total)s (delivery %(delivery)s)")
            % {
                "total": format_amount(int(rs.price) + int(rs.delivery_fee), currency),
                "delivery": format_amount(rs.delivery_fee, currency),
            },
        )
    )
    if rs.reason:
        rows.append(Row(_("Reason for return"), text_of(REASON_TEXT, rs.reason)))
    if grade:
        rows.append(_grade_row(grade))
    if rs.remedy == "exchange":
        rows.append(Row(_("Chosen"), _("Exchange voucher (store points) instead of cash")))
    if rs.voucher_points:
        rows.append(
            Row(
                _("Voucher"),
                _("Store points worth %(amount)s") % {"amount": format_amount(rs.voucher_points, currency)},
                emphasis=True,
            )
        )
    if rs.refund_on_receipt:
        r = rs.refund_on_receipt
        paid = (
            format_amount(r["refund"], currency)
            if int(r["refund"])
            else _("a voucher worth %(amount)s") % {"amount": format_amount(r["points"], currency)}
        )
        rows.append(
            Row(
                _("Refund released"),
                _("%(paid)s when the return center at location %(gln)s received it")
                % {"paid": paid, "gln": r["location"]},
                emphasis=True,
            )
        )
    return rows


def _lifecycle_rows(rs: ReturnStatus) -> list[Row]:
    """What anyone reads of the order's progress: sent back, a pending dispute or second inspection,
    a defect claim and its replacement, whether the state was checked on-chain."""
    rows: list[Row] = []
    if rs.dispatched_at:
        rows.append(
            Row(
                _("Sent back"),
                _("A carrier's scan proves the return was sent on %(time)s (checked on-chain)")
                % {"time": format_time(rs.dispatched_at)[0]},
            )
        )
    if rs.dispute and rs.dispute.get("pending"):
        by = format_time(rs.dispute.get("decideBy"))[0]
        rows.append(
            Row(
                _("Dispute"),
                _("An independent arbiter decides by %(time)s; if it does not, the attested facts decide")
                % {"time": by},
                emphasis=True,
            )
        )
    if rs.second_inspection and rs.second_inspection.get("pending"):
        rows.append(Row(_("Inspection"), _("Second inspection by an independent inspector pending"), emphasis=True))
    if rs.defect_claim:
        d = rs.defect_claim
        state = (
            _("approved at once (low value)")
            if d.get("autoApproved")
            else _("the brand did not decide in time: returned at the brand's expense")
            if d.get("returnedUndecided")
            else _("approved")
            if d.get("approved")
            else _("rejected")
            if d.get("decided")
            else _("waiting for the brand's decision")
        )
        rows.append(Row(_("Defect claim"), _("Reported with photo evidence — %(state)s") % {"state": state}))
    if rs.reissue:
        ri = rs.reissue
        if ri.get("deliveredAt"):
            state = _("delivered")
        elif ri.get("unfulfilled"):
            state = (
                _("not delivered in time — refunded; keep the defective unit")
                if ri.get("returnWaived")
                else _("not delivered in time — return the defective unit for a full refund")
            )
        else:
            state = _("on its way") if ri.get("replacement") else _("being prepared")
        rows.append(Row(_("Replacement"), state, emphasis=True))
    if rs.proof:
        rows.append(_proof_row(rs.proof))
    return rows


def _settlement_rows(rs: ReturnStatus, s: Settlement, grade: str | None, currency: Currency) -> list[Row]:
    """The settlement as its parties read it: the deductions, what decided, the refund and points."""
    rows: list[Row] = []
    parts = s.parts or {}
    if parts.get("verified"):
        rows += [Row(_("Deducted"), deduction_text(d, parts, currency)) for d in parts.get("deductions") or []]
        if parts.get("basis") == "right_lost":
            rows.append(Row(_("Statutory right"), _(RIGHT_LOST)))
    elif parts:
        rows.append(
            Row(
                _("Breakdown"),
                _("Not verified: the settlement's parts do not add up; the amounts below are the escrow's totals"),
            )
        )
    kind = parts.get("kind")
    if rs.refund_on_receipt:
        if s.disposition != "pending":
            rows.append(Row(_("Where the unit goes"), text_of(UNIT_FATE, s.disposition)))
    elif s.disposition == "kept" and kind in ("completed", None):  # completed: no return, the merchant was paid
        rows.append(
            Row(
                _("Paid out"),
                _("%(amount)s to the brand; the buyer keeps the unit")
                % {"amount": format_amount(s.merchant_amount, currency)},
                emphasis=True,
            )
        )
    else:
        if rs.status == "cancelled":
            terms = _("Buyer protection: the unit was not delivered in time, so everything was refunded")
        elif kind in SETTLED_BY and kind != "arbitrated":
            terms = _(SETTLED_BY[kind])
        elif kind == "arbitrated":
            terms = (
                _("An independent arbiter, on the facts it found under the law")
                if s.statutory
                else _("An independent arbiter, on the facts it found under the brand's grade %(grade)s terms")
                % {"grade": grade}
            )
        elif s.statutory:
            basis = (
                _(STATUTORY_BASIS[rs.market])
                if rs.market in STATUTORY_BASIS
                else _("Consumer law of market %(market)s") % {"market": rs.market}
            )
            terms = _("%(basis)s: the law, not the grade terms, set the refund") % {"basis": basis}
        else:
            terms = _("The brand's %(market)s return policy, grade %(grade)s terms") % {
                "market": rs.market,
                "grade": grade,
            }
        rows.append(Row(_("Decided by"), terms))
        rows.append(Row(_("Refund"), format_amount(s.refund, currency), emphasis=True))
        if int(s.points) > 0:
            rows.append(Row(_("Store points"), _("worth %(amount)s") % {"amount": format_amount(s.points, currency)}))
        if s.disposition == "pending":
            rows.append(Row(_("Where the unit goes"), _("Decided by its inspection")))
        elif s.disposition == "kept":
            rows.append(Row(_("Where the unit goes"), _("The buyer keeps it")))
        else:
            rows.append(Row(_("Where the unit goes"), text_of(UNIT_FATE, s.disposition)))
    return rows
