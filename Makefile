# arrears: make targets. `make` alone lists them.
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help demo test check fmt clippy bench bench-e2e bench-experiments layout-test workbook-test crosscheck crosscheck-uci engine-test deploy-check bench-shards bench-s3 s3-test
ARREARS ?= target/release/arrears
VENV ?= target/venv
S3_SERVER ?= moto
UCI ?= ../shared/data/uci_taiwan_credit_card_default/UCI_Credit_Card.csv

help: ## List the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

demo: ## Generate the built-in demo portfolio, run the nightly job, print where the report is
	$(CARGO) run --release -- demo --output target/demo

test: ## Run every test (unit, integration, properties, CLI)
	$(CARGO) test --all-targets

fmt: ## Format the code
	$(CARGO) fmt --all

clippy: ## Lint with warnings as errors
	$(CARGO) clippy --all-targets -- -D warnings

check: ## fmt check, clippy (warnings are errors), tests
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) test --all-targets

bench: ## criterion benchmarks per stage
	$(CARGO) bench --bench stages

bench-e2e: ## end-to-end `arrears run` on 10M, 30M and shuffled 10M books, with decode floors and DuckDB and Polars peers
	bash benches/e2e.sh

bench-shards: ## shard and merge costs for 1, 2, 4 and 8 shards of the 10M book (SCALING.md)
	bash benches/shards.sh

bench-experiments: ## what champion/challenger tests cost: the 10M book run with no experiment, the demo's, and one over every loan (BENCHMARKS.md)
	bash benches/experiments.sh

layout-test: ## the demo report (en, zh-CN) in Chromium at 1280/1440/1920 px and A4 print: no sideways scroll, no overlaps, readable charts; screenshots in target/browser
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import websocket" 2>/dev/null || $(VENV)/bin/pip install -q websocket-client
	@[ -x $(ARREARS) ] || $(CARGO) build --release
	rm -rf target/layout
	$(ARREARS) demo --output target/layout/en >/dev/null
	$(ARREARS) demo --output target/layout/zh-CN --locale zh-CN >/dev/null
	$(VENV)/bin/python tests/browser/layout.py target/browser target/layout/en/output/report/as_of_date=2026-11-29/report.html target/layout/zh-CN/output/report/as_of_date=2026-11-29/report.html

workbook-test: ## the demo's report.xlsx read by openpyxl and checked sheet by sheet against the Parquet tables; a rerun writes the same bytes
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import openpyxl, duckdb" 2>/dev/null || $(VENV)/bin/pip install -q openpyxl duckdb
	@[ -x $(ARREARS) ] || $(CARGO) build --release
	rm -rf target/workbook
	$(ARREARS) demo --output target/workbook/a >/dev/null
	cp -r target/workbook/a target/workbook/b
	{ $(ARREARS) policy; echo; $(ARREARS) policy | sed -n '/^# \[\[experiments\]\]/,$$p' | sed -e 's/^# \{0,1\}//'; } > target/workbook/demo.toml
	$(ARREARS) run --input target/workbook/b/input --output target/workbook/b/output --as-of 2026-11-29 --policy target/workbook/demo.toml >/dev/null
	$(VENV)/bin/python tests/excel/check_workbook.py target/workbook/a/output 2026-11-29 target/workbook/b/output

bench-s3: ## object-store throughput: a 1M-loan book read from and published to a local S3 server (S3_SERVER=moto, or the path of an s3s-fs binary) (SCALING.md)
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import moto.server, boto3" 2>/dev/null || $(VENV)/bin/pip install -q "moto[server]" boto3
	@[ -x $(ARREARS) ] || $(CARGO) build --release
	@[ -d target/bench-data/s3-1000000 ] || $(ARREARS) generate --output target/bench-data/s3-1000000 --loans 1000000 --as-of 2026-11-29 --days 2 --seed 42
	$(VENV)/bin/python benches/s3_throughput.py $(ARREARS) target/bench-data/s3-1000000 $(S3_SERVER)

crosscheck: ## DuckDB writes a book, arrears runs on it, SQL recomputes every figure: must agree to the cent
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import duckdb, xxhash" 2>/dev/null || $(VENV)/bin/pip install -q duckdb xxhash
	@[ -x $(ARREARS) ] || $(CARGO) build --release
	rm -rf target/crosscheck
	$(VENV)/bin/python tests/sql/crosscheck.py $(ARREARS) target/crosscheck 50000

crosscheck-uci: ## Real data (UCI credit-card book, CC BY 4.0): six monthly snapshots, run month by month, roll rates counted independently
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import duckdb" 2>/dev/null || $(VENV)/bin/pip install -q duckdb
	@[ -x $(ARREARS) ] || $(CARGO) build --release
	$(VENV)/bin/python tests/sql/uci.py $(ARREARS) target/uci $(UCI)

engine-test: ## 4 shards as tasks on a local Dask cluster (one killed and retried), merged: must equal `arrears run`
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import dask.distributed" 2>/dev/null || $(VENV)/bin/pip install -q "dask[distributed]"
	$(VENV)/bin/python tests/engine/dask_shards_test.py $(ARREARS)

s3-test: ## the nightly job on a book in a local S3 server (moto): equal to the local run, only needed bytes fetched, clear exits
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import moto.server, boto3, duckdb" 2>/dev/null || $(VENV)/bin/pip install -q "moto[server]" boto3 duckdb
	$(VENV)/bin/python tests/objectstore/s3_test.py $(ARREARS)

deploy-check: ## the Kubernetes Job and the Airflow DAG under deploy/ checked against the fields they use
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@$(VENV)/bin/python -c "import yaml" 2>/dev/null || $(VENV)/bin/pip install -q pyyaml
	$(VENV)/bin/python deploy/check.py
