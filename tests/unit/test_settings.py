"""The gateway's settings read from the environment (moved from tests/api/test_legacy_deployment.py)."""

from __future__ import annotations

from pathlib import Path

from api.settings import Settings


def test_legacy_manifests_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("RT_LEGACY_MANIFESTS", "deployments/v1.json, /srv/old.json,")
    assert Settings.from_env().legacy_manifests == (Path("deployments/v1.json"), Path("/srv/old.json"))
    monkeypatch.delenv("RT_LEGACY_MANIFESTS")
    assert Settings.from_env().legacy_manifests == ()
