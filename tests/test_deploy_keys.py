"""The deployment script gives the four trusted powers four separate keys, and lets the public test
keys govern a local chain only (issue 9: separate roles on separate keys; no secrets in the repo)."""

import pytest
from eth_utils import keccak

from scripts import deploy

KEYS = {var: "0x" + keccak(text=f"deploy-keys-test:{var}").hex() for var in deploy.POWER_KEYS.values()}


@pytest.fixture
def env(monkeypatch):
    for var in deploy.POWER_KEYS.values():
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_four_separate_keys_from_the_environment(env, admin):
    for var, key in KEYS.items():
        env.setenv(var, key)
    gov = deploy.governance_from_env(admin)
    powers = [gov.accreditor, gov.law_admin, gov.policy_admin, gov.arbiter]
    assert [a.private_key.lower() for a in powers] == [KEYS[v].lower() for v in deploy.POWER_KEYS.values()]
    assert len({a.address for a in powers} | {admin.address}) == 5


def test_one_key_for_two_powers_is_refused(env, admin):
    for var, key in KEYS.items():
        env.setenv(var, key)
    env.setenv("RT_ARBITER_KEY", KEYS["RT_ACCREDITOR_KEY"])
    with pytest.raises(SystemExit, match="four different keys"):
        deploy.governance_from_env(admin)


def test_some_keys_but_not_all_are_refused(env, admin):
    env.setenv("RT_ACCREDITOR_KEY", KEYS["RT_ACCREDITOR_KEY"])
    with pytest.raises(SystemExit, match="RT_LAW_ADMIN_KEY"):
        deploy.governance_from_env(admin)


def test_public_test_keys_govern_a_local_chain_only(env, admin, monkeypatch):
    assert deploy.governance_from_env(admin).accreditor.address == deploy.governance(admin).accreditor.address
    monkeypatch.setattr(deploy, "LOCAL_CHAIN_IDS", ())  # as if the chain were a public network
    with pytest.raises(SystemExit, match="local chains only"):
        deploy.governance_from_env(admin)
