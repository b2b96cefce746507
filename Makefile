# One command per job; each does its own set-up (a fresh clone needs nothing but python3 and make).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help venv engine provider provider-schema monitoring-tools demo takeover-demo sandbox test lint typecheck render docs guard review bench bench-handoff constraints clean

help:
	@echo "make demo    - run the whole story on an embedded S3 endpoint"
	@echo "make takeover-demo - take over the specification's hand-made storage with pulumi up, on an embedded endpoint"
	@echo "make sandbox - run the storage, the engine and both stacks until Ctrl-C: the docs' commands, in another shell"
	@echo "make test    - lint, type-check and run every test (builds the engine first)"
	@echo "make engine  - build the pinned Pulumi CLI and Python language host (cached outside the clone)"
	@echo "make provider - build the minio plugin: the real Terraform bridge over our provider (cached)"
	@echo "make monitoring-tools - install promtool (Debian's prometheus package) if it is missing"
	@echo "make provider-schema - regenerate tools/provider's committed Pulumi schema with the bridge's tfgen"
	@echo "make render  - regenerate the committed stack renders (policies/rendered/)"
	@echo "make docs    - rewrite the docs' reference tables (settings, config, outputs, guardrails) from the code"
	@echo "make guard   - the guardrails on the program's current renders; fails on a stale committed one (RENDER=file for one)"
	@echo "make review  - what the change does, as tables: resources, grants, retention (BASE=origin/main)"
	@echo "make bench   - uploader vs raw boto3 benchmark"
	@echo "make bench-handoff - time-to-spool against a black-hole and a trickling server"
	@echo "make constraints - re-pin every dependency (constraints.txt) to the newest allowed"

venv: $(STAMP)

# constraints.txt pins every package the tests and tools ran with, so a fresh clone installs the
# same versions (the embedded endpoint and the policy pack lean on moto's and pulumi-policy's
# internals). Refresh it deliberately: `make constraints`, run `make test`, commit both.
# pip is --quiet (its hundreds of lines would bury everything else), so one line says what the
# silent minutes are.
$(STAMP): pyproject.toml constraints.txt
	@echo "Installing the Python packages into $(VENV) (first time: about 20 seconds; again only when pyproject.toml or constraints.txt change) ..."
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet -c constraints.txt uv
	@$(BIN)/uv pip install --quiet --python $(BIN)/python -c constraints.txt --compile-bytecode -e '.[infra,dev]'
	@touch $(STAMP)

# The Pulumi CLI, engine and Python language host, built from Go modules at the pin
# (constraints.txt's pulumi==, tools/engine/go.mod) into a cache outside the clone; a no-op when
# that build is there (devtools/engine/pulumi_cli.py). A build says what it is, how long the first one
# takes and how far it is, on stderr; its stdout (the build's directory) is not needed here, so
# a cached no-op is silent.
engine: $(STAMP)
	@$(BIN)/python -m devtools.engine > /dev/null

# The minio plugin the engine runs here: pulumi-terraform-bridge v3.135.0 over our Terraform
# provider (tools/provider), built into a cache outside the clone; a no-op when it is there
# (devtools/engine/minio_plugin.py). Like `engine`: progress on stderr, silent when cached.
provider: $(STAMP)
	@$(BIN)/python -m devtools.engine.minio_plugin > /dev/null

# After a schema change in tools/provider/minio: the committed schema.json and
# bridge-metadata.json as the bridge's tfgen makes them (a test holds them equal).
provider-schema: $(STAMP)
	$(BIN)/python -m devtools.engine.minio_plugin --write-schema
	$(BIN)/python -m devtools.engine.minio_plugin

# promtool, for the alert rules' unit tests (tests/unit/test_monitoring.py, which fails without
# it): Debian's prometheus package, installed only when promtool is not on PATH, so a no-op after
# the first time. Only promtool is used; the package's own server is not wanted (in a container,
# policy-rc.d keeps apt from starting it).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
monitoring-tools:
	@command -v promtool >/dev/null || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends prometheus; }
	@promtool --version | head -1

demo: $(STAMP) engine provider
	$(BIN)/python -m devtools.demos.deploy

takeover-demo: $(STAMP) engine provider
	$(BIN)/python -m devtools.demos.takeover

# Until Ctrl-C: the docs' commands run as written in another shell (docs/try-it-locally.md).
# Ctrl-C is how it ends (exit 130, one line): not an error of the recipe's.
sandbox: $(STAMP) engine provider
	$(BIN)/python -m devtools.sandbox || test $$? -eq 130

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	test -z "$$(gofmt -l tools/engine tools/provider)" || { gofmt -l tools/engine tools/provider; exit 1; }

# mypy's cache lives outside the clone, as the Go builds do: a fresh clone (CI) type-checks in
# seconds instead of a minute of CPU. Safe to share between clones: mypy rechecks every module
# whose source's hash differs from the cached one.
MYPY_CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/voice-recordings/mypy
typecheck: $(STAMP)
	$(BIN)/mypy --cache-dir $(MYPY_CACHE) voice_recordings devtools infra policies benchmarks tests __main__.py

# Three workers on the two cores: the workers wait on the engine's plugins and on servers often
# enough that two left the cores idle about a quarter of the time. Whole files, longest first
# (tests/conftest.py). The tests that measure latency (marked `alone`) run after the others,
# with nothing beside them.
test: lint typecheck engine provider monitoring-tools
	$(BIN)/python -m pytest -n 3 --dist loadfile --no-loadscope-reorder -m "not alone"
	$(BIN)/python -m pytest -m alone

render: $(STAMP)
	$(BIN)/python -m infra.render --stack prod --output policies/rendered/prod.json
	$(BIN)/python -m infra.render --stack dev --output policies/rendered/dev.json
	$(BIN)/python -m infra.render --variant prod-adopt
	$(BIN)/python -m infra.render --variant prod-company-retention

# The docs' reference tables, written between their markers from the declarations in the code
# (devtools/docs_tables.py); tests/test_docs.py fails on a stale one ("run make docs").
docs: $(STAMP)
	$(BIN)/python -m devtools.docs_tables

# RENDER=<file> checks one render; default: the program's current renders, each rendered in memory
# and compared with its committed policies/rendered/<name>.json (stale: fails, "run make render").
guard: $(STAMP)
	$(BIN)/python -m policies.guardrails.offline $(RENDER)

# What the change does: the committed renders at BASE (default origin/main, else main) against what
# the program renders now; preview.yml posts it on the pull request (docs/operating.md). Silent
# (@): its standard output is the review, the comment's text.
review: $(STAMP)
	@$(BIN)/python -m policies.review $(if $(BASE),--base $(BASE))

bench: $(STAMP)
	$(BIN)/python -m benchmarks.upload_vs_boto3

# About 2 x 2 x 2 x MINIO_UPLOAD_DEADLINE (80 s with the default); stops by itself.
bench-handoff: $(STAMP)
	$(BIN)/python -m benchmarks.handoff_deadline

constraints:
	rm -rf .venv-refresh && $(PYTHON) -m venv .venv-refresh
	.venv-refresh/bin/python -m pip install --quiet --upgrade pip
	.venv-refresh/bin/python -m pip install --quiet -e '.[infra,dev]'
	.venv-refresh/bin/python -m pip freeze --exclude-editable > constraints.txt
	rm -rf .venv-refresh

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
