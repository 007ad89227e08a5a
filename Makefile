# synthlab-db — the two commands you need: `make demo` and `make test`.
CARGO ?= cargo
PGPORT ?= 5432
PARITY_DATABASE_URL ?= postgres://postgres@127.0.0.1:$(PGPORT)/postgres
export PARITY_DATABASE_URL

.PHONY: demo test check fmt lint test-sqlite build pg-start pg-stop clean-demo bench-repo doctor

## Create ./synthlab.db (or use DATABASE_URL), load the demo data through the repositories, print the status.
demo:
	$(CARGO) run --quiet --bin synthlab-db -- demo

## Format check + clippy (-D warnings) + the whole suite with the parity half on PostgreSQL.
test: check
	$(CARGO) test --features parity

check: fmt lint

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --all-targets --all-features -- -D warnings

## The suite without PostgreSQL (SQLite half only).
test-sqlite:
	$(CARGO) test

build:
	$(CARGO) build --release

## Check the database (DATABASE_URL or the default SQLite file): exit 1 when anything is wrong.
doctor:
	$(CARGO) run --quiet --bin synthlab-db -- doctor

## Repository overhead vs the raw drivers, pool throughput vs pgbench, startup time (reported, not asserted).
## BENCH_DATABASE_URL (default: the parity server) gets a database synthlab_bench for the run.
bench-repo:
	$(CARGO) build --release --example startup_probe --example bench_repo
	BENCH_DATABASE_URL=$${BENCH_DATABASE_URL:-$(PARITY_DATABASE_URL)} $(CARGO) run --release --example bench_repo

## A throwaway PostgreSQL cluster from the local binaries (for machines without a running server).
pg-start:
	scripts/pg-throwaway.sh start $(PGPORT)

pg-stop:
	scripts/pg-throwaway.sh stop $(PGPORT)

clean-demo:
	rm -f synthlab.db synthlab.db-wal synthlab.db-shm
