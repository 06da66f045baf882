# Chat-to-Salesforce suite: `make run` to run it locally, `make test` to prove it.
# Every target that needs tools calls `setup` first; `setup` is idempotent.

SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION ?= 0.13.8
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/uv/bin/uv)
PY := $(CURDIR)/.venv/bin/python
KAFKA := devtools/kafka/kafka.sh
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
export UV_PYTHON ?= 3.11
export UV_PYTHON_DOWNLOADS ?= never
export KAFKA_BOOTSTRAP_SERVERS ?= 127.0.0.1:9092
# The local broker's SASL_PLAINTEXT listener (tests prove every client authenticates on it).
export KAFKA_SASL_PORT ?= 9094
export KAFKA_SASL_BOOTSTRAP_SERVERS ?= 127.0.0.1:$(KAFKA_SASL_PORT)

PYTEST_ARGS ?=
# Flags of `make bench-pipeline` (e.g. BENCH_ARGS="--tenants 50 --chats 2000").
BENCH_ARGS ?=

.PHONY: help docs promtool postgres setup uv venv kafka-install kafka-up kafka-down kafka-status kafka-reset topics \
	run lint format typecheck schemas test test-unit test-integration bench bench-kafka-floor \
	bench-request-reply k8s-tools k8s-validate chromium bench-auth-tokens bench-crm-sync bench-salesforce-emulator bench-bot-actions bench-ingest bench-hostile-tenant bench-pipeline bench-console clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-22s\033[0m %s\n", $$1, $$2}'

setup: uv venv kafka-install chromium promtool postgres ## Install everything (uv, the venv, Kafka jars, chromium, promtool, PostgreSQL); idempotent

uv: ## Install uv into .tools/ when the machine has none
	@if [ ! -x "$(UV)" ]; then \
	  echo "setup: installing uv $(UV_VERSION) from PyPI into .tools/uv"; \
	  python3 -m pip install --quiet --disable-pip-version-check --target .tools/uv "uv==$(UV_VERSION)"; \
	fi

venv: uv ## Create .venv from the committed uv.lock
	@"$(UV)" sync --all-packages --locked --quiet

# $(call apt_install,<present test>,<package>,<what it is for>,<what is skipped without it>,<apt options>):
# install a Debian package unless the test says it is there (idempotent).
define apt_install
	@if ! $(1) >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "setup: installing $(2) ($(3))"; \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(5) $(2) >/dev/null; \
	  else \
	    echo "setup: no apt-get: $(4) will be skipped" >&2; \
	  fi; \
	fi
endef

chromium: ## Install Debian's chromium for the auth browser test (idempotent; apt-get)
	$(call apt_install,command -v chromium,chromium,the browser tests drive it,the browser tests)

promtool: ## Install Debian's prometheus package for promtool (the alert rules' tests; idempotent)
	$(call apt_install,command -v promtool,prometheus,promtool tests the alert rules,the alert rule tests,--no-install-recommends)

postgres: ## Install Debian's PostgreSQL server package (the console's tests start one; idempotent)
	$(call apt_install,ls /usr/lib/postgresql/*/bin/postgres,postgresql,the console's tests run it,the console's PostgreSQL tests,--no-install-recommends)

kafka-install: ## Resolve the Kafka broker jars from Maven Central (needs Java 17 and Maven)
	@command -v java >/dev/null || { echo "setup: java (17+) is required for the local Kafka broker" >&2; exit 1; }
	@command -v mvn >/dev/null || { echo "setup: mvn is required to fetch the Kafka jars" >&2; exit 1; }
	@$(KAFKA) install

kafka-up: setup ## Start the local Kafka broker (KRaft, 127.0.0.1:9092) and wait until it answers
	@$(KAFKA) up

kafka-down: ## Stop the local Kafka broker
	@$(KAFKA) down

kafka-status: ## Is the local broker running?
	@$(KAFKA) status

kafka-reset: ## Stop the broker and delete its data
	@$(KAFKA) reset

topics: kafka-up ## Create/align every topic of the contracts' registry
	@.venv/bin/chat-topics

run: topics ## Set up and run the whole suite on local defaults (Ctrl-C stops it)
	@mkdir -p .cache/salesforce-emulator
	@.venv/bin/honcho -f Procfile start

lint: setup ## ruff lint and format check, and the import contracts (layers, services apart)
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/lint-imports --no-cache

format: setup ## Apply ruff's fixes and formatting
	@.venv/bin/ruff check --fix .
	@.venv/bin/ruff format .

typecheck: setup ## mypy (strict) over libs, services, devtools, deploy, tests and benches
	@.venv/bin/mypy libs services devtools deploy tests
	@# Benches run as scripts (their folder first on sys.path) and some share a name with
	@# the service they measure, so they are checked apart, as the scripts they are.
	@MYPYPATH=bench .venv/bin/mypy bench

schemas: setup ## Re-export the contracts' JSON Schema snapshots and the AsyncAPI document
	@$(PY) -m chat_contracts.schemas export
	@$(PY) -m deploy.asyncapi

docs: setup ## The AsyncAPI document (docs/asyncapi/asyncapi.json) and its HTML page (index.html)
	@$(PY) -m deploy.asyncapi --html
	@echo "docs: docs/asyncapi/index.html"

k8s-tools: ## Install kustomize, kubeconform and hadolint (pinned) into .tools/bin
	@deploy/k8s/install-tools.sh

k8s-validate: venv k8s-tools ## Render every deploy/k8s overlay, validate it offline, hadolint the Dockerfile
	@$(PY) -m deploy.k8s.validate

test: setup kafka-up lint typecheck k8s-validate ## Lint, types, manifests and every test tier against the real broker
	@.venv/bin/pytest $(PYTEST_ARGS)

test-unit: setup k8s-tools ## Unit tests only (no broker)
	@.venv/bin/pytest -m unit $(PYTEST_ARGS)

test-integration: kafka-up ## Integration and e2e tests (real broker)
	@.venv/bin/pytest -m "integration or e2e" $(PYTEST_ARGS)

bench: bench-kafka-floor bench-request-reply bench-ingest bench-salesforce-emulator bench-auth-tokens bench-bot-actions bench-crm-sync bench-hostile-tenant bench-pipeline bench-console ## Run the benches (figures as JSON on each last line)

bench-kafka-floor: kafka-up ## Raw aiokafka passthrough and ping-pong floors
	@$(PY) bench/kafka_floor.py

bench-request-reply: kafka-up ## Our request/reply client against the raw ping-pong
	@$(PY) bench/request_reply.py

bench-auth-tokens: kafka-up ## Cached token requests to auth against the request/reply floor
	@$(PY) bench/auth_tokens.py

bench-ingest: kafka-up ## ingest vs the raw floor and a naive FastStream peer; webhook req/s and p99
	@$(PY) bench/ingest.py

bench-salesforce-emulator: setup ## The emulator's creates/s, Collections and 200-email query times
	@$(PY) bench/salesforce_emulator.py

bench-console: kafka-up ## The console: history ingest rate into SQLite, chat-history API p99 over 1,000,000 chats
	@$(PY) bench/console.py

bench-bot-actions: kafka-up ## Bot actions round trip against the floor and direct emulator calls
	@$(PY) bench/bot_actions.py

bench-crm-sync: kafka-up ## crm-sync against the emulator, with the naive flow beside it
	@$(PY) bench/crm_sync.py

bench-hostile-tenant: kafka-up ## One tenant's paced chats alone, then beside a tenant sending only hostile ones
	@$(PY) bench/hostile_tenant.py

bench-pipeline: kafka-up ## The whole pipeline, webhooks to 1,000 orgs: a hot tenant, a broken one, full speed
	@$(PY) bench/pipeline.py $(BENCH_ARGS)

clean: kafka-down ## Remove the venv, caches and broker data (keeps nothing local)
	rm -rf .venv .cache .tools .mypy_cache .ruff_cache .pytest_cache artifacts
