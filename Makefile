.DEFAULT_GOAL := help
.PHONY: help demo test bench lint docs

help: ## List the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

demo: ## Main job end to end: install, generate 1M with features on a local Ray, train, score, serve, score over HTTP
	scripts/demo

test: ## Whole test suite: ruff, mypy, lint-imports, deptry, vulture, docs freshness, pytest
	scripts/test

bench: ## Benchmarks (medians, same-run baselines): generate, features, model, db, pipeline, api
	scripts/bootstrap && scripts/postgres && .venv/bin/synfinance bench generate && .venv/bin/synfinance bench features \
		&& .venv/bin/synfinance bench model && .venv/bin/synfinance bench db && .venv/bin/synfinance bench pipeline \
		&& .venv/bin/synfinance bench api

lint: ## ruff, mypy, import contracts, dependencies and dead code only
	scripts/bootstrap && .venv/bin/ruff check . && .venv/bin/mypy && .venv/bin/lint-imports --no-cache \
		&& .venv/bin/deptry . && .venv/bin/vulture

docs: ## Regenerate docs/*.md pages that come from the code
	scripts/bootstrap && .venv/bin/synfinance docs build
