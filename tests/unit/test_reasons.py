"""The nine assistant codes map to the escrow's coarse reasons in one table."""

from returntrace.assistant import REASONS
from returntrace.escrow import ReturnReason
from returntrace.reasons import COARSE_REASON, coarse


def test_every_assistant_reason_has_one_coarse_reason():
    assert set(COARSE_REASON) == set(REASONS)
    assert all(isinstance(v, ReturnReason) for v in COARSE_REASON.values())


def test_a_defect_or_a_safety_concern_is_defective_on_chain_and_no_reason_is_other():
    # DEFECTIVE is the coarse reason that changes who pays the return shipping.
    assert coarse("defective") == coarse("safety_concern") == ReturnReason.DEFECTIVE
    assert coarse("changed_mind") == ReturnReason.NO_LONGER_NEEDED
    assert coarse(None) == ReturnReason.OTHER
