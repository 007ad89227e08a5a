# synthlab-db — the two commands you need: `make demo` and `make test`.
CARGO ?= cargo
PGPORT ?= 5432
PARITY_DATABASE_URL ?= postgres://postgres@127.0.0.1:$(PGPORT)/postgres
export PARITY_DATABASE_URL

.PHONY: demo test check fmt lint test-sqlite build pg-start pg-stop clean-demo bench-copy legacy-file

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

## A throwaway PostgreSQL cluster from the local binaries (for machines without a running server).
pg-start:
	scripts/pg-throwaway.sh start $(PGPORT)

pg-stop:
	scripts/pg-throwaway.sh stop $(PGPORT)

clean-demo:
	rm -f synthlab.db synthlab.db-wal synthlab.db-shm

## Copy benchmark: our copy (+ verify) vs pgloader vs psql \copy + index build, on one generated file.
SCALE ?= 1
bench-copy:
	scripts/bench-copy.sh $(SCALE)

## A deterministic legacy file: make legacy-file SCALE=1 LAYOUT=15 SEED=7 OUT=legacy.db [DIRTY=1]
LAYOUT ?= 15
SEED ?= 7
OUT ?= legacy.db
legacy-file:
	$(CARGO) run --quiet --release --bin synthlab-db -- generate --out $(OUT) --scale $(SCALE) --layout $(LAYOUT) --seed $(SEED) $(if $(DIRTY),--dirty,)
