"""returntrace/data/policies.toml: the market presets load into the Law and Policy values the deploy
script sets, with their times in seconds, and a preset that does not fit is refused by name."""

from __future__ import annotations

import pytest

from returntrace import policies
from returntrace.escrow import UnitDisposition
from returntrace.policies import DAY, PresetError


def test_the_file_holds_every_market_with_its_policy_times_in_seconds():
    assert set(policies.LAWS) == set(policies.PRESETS) == set(policies.MARKET_NAMES)
    assert policies.EU.return_window == 30 * DAY and policies.CN.inspection_sla == 3 * DAY
    assert policies.EU_LAW.withdrawal_days == 14  # a law's periods stay whole days
    assert policies.US.grade_terms(3).disposition is UnitDisposition.RECYCLE


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (("withdrawal_days = 14\n", ""), "missing fields ['withdrawal_days']"),
        (
            ("withdrawal_days = 14\n", "withdrawal_days = 14\nwithdrawl_days = 14\n"),
            "unknown fields ['withdrawl_days']",
        ),
        (("hygiene_exception = true\n", "hygiene_exception = 1\n", 1), "law.EU.hygiene_exception"),
        (("exchange_bonus_bps = 500\n", "exchange_bonus_bps = true\n"), "policy.EU.exchange_bonus_bps"),
        (('disposition = "DONATE"', 'disposition = "DONAT"', 1), "policy.EU.terms[1].disposition"),
        (("return_window_days = 30\n", "return_window_days = 30.5\n", 1), "policy.EU.return_window_days"),
        # A second key for one period, in seconds, would silently win over the days.
        (
            ("return_window_days = 30\n", "return_window_days = 30\nreturn_window = 1\n", 1),
            "policy.EU.return_window: a period is written in days",
        ),
        # Only the periods are in days: a bonus "in days" is an unknown field, not 86,400 times the bps.
        (
            ("exchange_bonus_bps = 500\n", "exchange_bonus_bps_days = 1\n", 1),
            "unknown fields ['exchange_bonus_bps_days']",
        ),
        (('disposition = "DONATE"', 'disposition = ["DONATE"]', 1), "policy.EU.terms[1].disposition"),
        (("basis = ", "note = ", 1), "law.EU: no basis"),
        (("[policy.CN]", "[policy.JP]"), "[policy.*] for ['EU', 'JP', 'US']"),
    ],
)
def test_a_preset_that_does_not_fit_is_refused_by_name(tmp_path, monkeypatch, edit, says):
    text = policies.PRESETS_FILE.read_text(encoding="utf-8").replace(*edit)
    (tmp_path / "policies.toml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(policies, "PRESETS_FILE", tmp_path / "policies.toml")
    with pytest.raises(PresetError) as refused:
        policies._load(policies.MARKET_NAMES)
    assert says in str(refused.value)
