# Everyday targets. The two README commands (python3 tasks.py profile|test) need no make;
# these are shortcuts for people who have it. All run inside .venv (created by `make setup`).
PY := .venv/bin/python
BIN := .venv/bin
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup profile test test-all lint fmt dbt-parse dev generate eval bench bench-national bench-dbt compare-outputs bench-publish clean

setup:            ## venv + locked dependencies + dbt manifest
	python3 tasks.py setup

profile: setup    ## the demo force's quarterly profile
	$(BIN)/spp profile

test:             ## everything CI runs (lint, dbt parse, fast tests)
	python3 tasks.py test

test-all: setup   ## include the slow scale tests
	$(PY) -m pytest -m "slow or not slow"

lint: setup       ## ruff, ruff format --check, sqlfluff (what CI lints)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models

fmt: setup        ## fix what ruff and sqlfluff can fix
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix dbt_project/models

dbt-parse: setup  ## re-parse dbt after changing dbt files (Dagster reads the manifest)
	$(PY) -m pipelines.dbt_project prepare

dev: setup        ## the Dagster UI on http://127.0.0.1:3000
	DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.state/dagster_home} $(BIN)/dagster dev -m pipelines.definitions

generate: setup   ## a tiny synthetic force in .state/tiny
	$(BIN)/spp generate --scale tiny --seed 42 --out .state/tiny

eval: setup       ## every accuracy evaluation against ground truth and public data
	$(PY) -m pipelines.evaluation.run_all

bench: setup      ## end-to-end benchmarks tiny/force/large -> docs/benchmarks.md
	$(BIN)/spp bench

bench-national: setup  ## the national-scale benchmark (long; see docs/benchmarks.md)
	$(BIN)/spp bench --scales national

# Same demo force, same run date: every published figure and marts/reporting table must match
# BEFORE (e.g. a run of main). `make compare-outputs BEFORE=/tmp/before` after `spp profile
# --out /tmp/before --warehouse /tmp/before.duckdb --run-date 2026-12-01` on the old code.
# SAME_EXTRACTS=DIR profiles the very delivery BEFORE was made from (a demo force cached by an
# older generator differs from a freshly generated one).
BEFORE ?= /tmp/spp-before
AFTER ?= /tmp/spp-after
SAME_EXTRACTS ?=
compare-outputs: setup  ## profile the demo force into AFTER and diff it against BEFORE
	$(BIN)/spp profile $(if $(SAME_EXTRACTS),--extracts $(SAME_EXTRACTS)) --out $(AFTER) --warehouse $(AFTER).duckdb --run-date 2026-12-01
	$(PY) -m pipelines.evaluation.compare_outputs $(BEFORE) $(AFTER) --warehouses $(BEFORE).duckdb $(AFTER).duckdb

# CPU and wall time of the whole publish stage on a finished warehouse (docs/evaluation/
# publish_stage.md); run it on the old code with LABEL=before for the baseline beside it.
EXTRACTS ?= .state/demo/force-seed42-2026-Q3
LABEL ?= after
bench-publish: setup  ## time the publish stage on AFTER's warehouse
	$(PY) -m pipelines.evaluation.publish_stage $(AFTER).duckdb --extracts $(EXTRACTS) --label $(LABEL)

# CPU and wall time of the three dbt steps alone on a finished warehouse (AFTER's, from
# compare-outputs); for an A/B, run it in two worktrees alternately on the same warehouse.
REPEAT ?= 3
bench-dbt: setup  ## time the dbt steps on AFTER's warehouse
	$(PY) -m pipelines.evaluation.bench_dbt $(AFTER).duckdb --repeat $(REPEAT) --label $(LABEL)

clean:            ## remove .state, output and dbt's target
	rm -rf .state output dbt_project/target
