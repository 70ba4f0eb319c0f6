"""The escrow's vocabulary and data, typed: one place for what IReturnEscrow, IReturnPolicies and
IReissueDesk declare.

- `enums`: OrderStatus, ReturnReason, Remedy, SettlementPath, Grade, UnitDisposition (the policies'
  Disposition), PolicyViolation, member for member; `key` is the lower-case name the index, the
  JSON and the pages use. `Facts` are the inspection's bits.
- `structs`: Listing, ListingTerms, Order, Law, GradeTerms, Policy, Currency, OrderTerms, Settlement,
  Reissue as frozen dataclasses, read from a call's or a log's value by ABI component name
  (`Order.decode(escrow.functions.order(id).call(), escrow.abi)`), never by counted position, and
  passed to calls with `as_tuple()`.
- `settlement`: a settlement event as parts a parent or an auditor reads (Breakdown).

The settlement arithmetic lives in ReturnPolicies.settlement; the gateway asks the escrow's views
(`quote`, `returnWindowCloses`) for amounts and dates. The one exception is
`Policy.exchange_voucher`, the bonus of an exchange the buyer has not chosen yet (the escrow's quote
follows the order's remedy). tests/properties/model.py is a separate oracle written from the
specification; it shares only these plain data types.

Kept equal to the compiled contracts by tests/unit/test_escrow_model.py (no chain: every enum member,
every struct field's name, order and type against build/contracts) and to the contract's `quote` by
tests/escrow/test_model_quote.py. A field added to a struct, a member to an enum or a struct to the
interfaces fails the first until the model has it: add it here in the contract's order and type.
Keys are stored (the index's status column, the JSON): renaming a member renames stored data.
The market presets (EU, US, China) are returntrace.policies; the registry's EPCIS vocabulary is
returntrace.vocab.
"""

from .abi import AbiMismatch, AbiStruct
from .enums import (
    ENUMS,
    Facts,
    Grade,
    OrderStatus,
    PolicyViolation,
    Remedy,
    ReturnReason,
    SettlementPath,
    UnitDisposition,
)
from .structs import (
    BPS,
    STRUCTS,
    Currency,
    GradeTerms,
    Law,
    Listing,
    ListingTerms,
    Order,
    OrderTerms,
    Policy,
    Reissue,
    Settlement,
)

__all__ = [
    "BPS",
    "ENUMS",
    "STRUCTS",
    "AbiMismatch",
    "AbiStruct",
    "Currency",
    "Facts",
    "Grade",
    "GradeTerms",
    "Law",
    "Listing",
    "ListingTerms",
    "Order",
    "OrderStatus",
    "OrderTerms",
    "Policy",
    "PolicyViolation",
    "Reissue",
    "Remedy",
    "ReturnReason",
    "Settlement",
    "SettlementPath",
    "UnitDisposition",
]
