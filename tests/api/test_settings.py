"""Every RT_* variable is read through one validated model (api/settings.py) or listed there as a knob,
a bad value stops the start naming its variable, and docs/operations.md's table is the one the
models write."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from api import main, settings
from api.settings import DemoSettings, DeploySettings, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
# A quoted RT_* name in Python (an os.environ.get argument, an env dict's key, setenv), or an assignment in the
# Makefile.
QUOTED = re.compile(r"""["'](RT_[A-Z0-9_]+)["']""")
MAKE_ASSIGNED = re.compile(r"(?<![A-Za-z0-9_])(RT_[A-Z0-9_]+)=")


def _named_in_code() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    files = [
        p
        for folder in ("api", "scripts", "tests", "tools", "bench", "returntrace")
        for p in (ROOT / folder).rglob("*.py")
        if "node_modules" not in p.parts
    ]
    for path in files:
        for name in QUOTED.findall(path.read_text()):
            found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    for name in MAKE_ASSIGNED.findall((ROOT / "Makefile").read_text()):
        found.setdefault(name, set()).add("Makefile")
    return found


def test_every_rt_variable_the_code_names_is_documented():
    undocumented = {name: sorted(where) for name, where in _named_in_code().items() if name not in settings.variables()}
    assert undocumented == {}, (
        f"RT_* variables read but not in api/settings.py (a model field, or KNOBS): {undocumented}"
    )


def test_every_knob_is_read_where_the_table_says():
    named = _named_in_code()
    for name, (who, _) in settings.KNOBS.items():
        path = who.split(" ")[0]
        assert path in named.get(name, set()), f"{name} is documented as read by {path}, which does not name it"


def test_the_configuration_table_in_the_operations_docs_is_the_generated_one():
    text = (ROOT / "docs" / "operations.md").read_text()
    assert settings.BEGIN in text and settings.END in text, "docs/operations.md has no settings markers"
    documented = settings.BEGIN + text.split(settings.BEGIN, 1)[1].split(settings.END, 1)[0] + settings.END
    assert documented == settings.markdown(), (
        "docs/operations.md is out of date: run `python -m api.settings --write docs/operations.md`"
    )


def test_the_writer_fills_only_the_block_between_the_markers(tmp_path):
    doc = tmp_path / "operations.md"
    doc.write_text(f"# Operations\n\nbefore\n\n{settings.BEGIN}\nstale\n{settings.END}\n\nafter\n")
    assert settings.write(doc) is True and settings.write(doc) is False
    assert doc.read_text() == f"# Operations\n\nbefore\n\n{settings.markdown()}\n\nafter\n"
    bare = tmp_path / "bare.md"
    bare.write_text("# Operations\n")
    settings.write(bare)
    assert bare.read_text() == f"# Operations\n\n## Configuration\n\n{settings.markdown()}\n"


def test_values_are_read_from_the_environment_and_empty_ones_are_unset():
    env = {
        "RT_RPC_URL": "http://node:8545",
        "RT_RPC_TIMEOUT": "1.5",
        "RT_BATCH_MAX_EVENTS": "250",
        "RT_RELAY": "0",
        "RT_INDEX": "1",
        "RT_LEGACY_MANIFESTS": "a.json, b.json,",
        "RT_IPFS_API": "",
        "RT_MIN_DEADLINE_MARGIN": "90",
    }
    s = Settings.from_env(env)
    assert (s.rpc_url, s.rpc_timeout, s.request_rpc.timeout, s.batch_max_events) == ("http://node:8545", 1.5, 1.5, 250)
    assert (s.relay, s.index, s.legacy_manifests, s.ipfs_api, s.min_deadline_margin) == (
        False,
        True,
        (Path("a.json"), Path("b.json")),
        None,
        90,
    )
    assert Settings.from_env({}) == Settings()
    assert DemoSettings.from_env({"RT_PORT": "8123", "RT_SERVE": "0"}) == DemoSettings(port=8123, serve=False)
    key = "0x" + "ab" * 32
    assert DeploySettings.from_env({"RT_ARBITER_KEY": key}).arbiter_key == key


@pytest.mark.parametrize(
    ("model", "variable", "value", "why"),
    [
        (Settings, "RT_BATCH_MAX_EVENTS", "many", "valid integer"),
        (Settings, "RT_RPC_TIMEOUT", "0", "greater than 0"),
        (Settings, "RT_RELAY", "perhaps", "valid boolean"),
        (Settings, "RT_RPC_URL", "127.0.0.1:8545", "pattern"),
        (Settings, "RT_RELAYER_KEY", "0x1234", "pattern"),
        (DemoSettings, "RT_PORT", "70000", "less than 65536"),
        (DeploySettings, "RT_DEPLOYER_KEY", "not-a-key", "pattern"),
    ],
)
def test_a_bad_value_is_an_error_naming_its_variable(model, variable, value, why):
    with pytest.raises(SettingsError) as exc:
        model.from_env({variable: value})
    assert variable in str(exc.value) and why in str(exc.value)
    secret = not model.model_fields[variable[3:].lower()].repr
    assert (value in str(exc.value)) is not secret  # a key, even a malformed one, is never echoed


def test_the_gateway_does_not_start_on_a_bad_value(monkeypatch):
    monkeypatch.setenv("RT_INDEX_INTERVAL", "fast")
    with pytest.raises(SystemExit, match="RT_INDEX_INTERVAL='fast'"):
        main.app()


def test_a_changed_copy_is_validated_too():
    s = Settings()
    assert s.replace(batch_max_events=5).batch_max_events == 5 and s.batch_max_events == 1000
    with pytest.raises(ValidationError):
        s.replace(batch_max_events=0)
    with pytest.raises(ValidationError):
        Settings(index_interval=-1)
