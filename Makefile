# synthlab-db — the two commands you need: `make demo` and `make test`.
CARGO ?= cargo
PGPORT ?= 5432
PARITY_DATABASE_URL ?= postgres://postgres@127.0.0.1:$(PGPORT)/postgres
export PARITY_DATABASE_URL

.PHONY: demo test check fmt lint test-sqlite build pg-start pg-stop clean-demo \
	migrate-up migrate-down migrate-status migrate-new schema-check bench-migrate \
	check-no-sqlite bench-cutover cutover-demo bench-copy legacy-file bench-repo doctor check-lib-only bench-sync

## Create ./synthlab.db (or use DATABASE_URL), load the demo data through the repositories, print the status.
demo:
	$(CARGO) run --quiet --bin synthlab-db -- demo

## Format check + clippy (-D warnings) + the postgres-only build + the library as a service links it + the whole suite with the parity half on PostgreSQL.
test: check check-no-sqlite check-lib-only
	$(CARGO) test --features parity
	$(CARGO) test -p synthlab-db-macros

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

## Schema lifecycle, on DATABASE_URL (default sqlite://synthlab.db).
## Apply pending migrations (TO=N to stop after version N).
migrate-up:
	$(CARGO) run --quiet --bin synthlab-db -- migrate up $(if $(TO),--to $(TO))

## Roll back through the down scripts: STEPS=K (default 1) or TO=N; refused when data would be lost unless FORCE=1.
migrate-down:
	$(CARGO) run --quiet --bin synthlab-db -- migrate down $(if $(TO),--to $(TO),--steps $(or $(STEPS),1)) $(if $(FORCE),--force)

## Current version, pending migrations, problems (exit 1 when the history does not match).
migrate-status:
	$(CARGO) run --quiet --bin synthlab-db -- migrate status

## New up + down scripts for both dialects: make migrate-new NAME=add_something
migrate-new:
	@test -n "$(NAME)" || { echo "usage: make migrate-new NAME=add_something" >&2; exit 2; }
	$(CARGO) run --quiet --bin synthlab-db -- migrate new $(NAME)

## Live schema against the migrations (exit 1 with the differences).
schema-check:
	$(CARGO) run --quiet --bin synthlab-db -- schema check

## Fresh apply time of all migrations on SQLite and PostgreSQL (goal < 1 s each).
bench-migrate:
	$(CARGO) run --release --example bench_migrate

## The legacy backend compiled out: builds, no rusqlite in the dependency tree, sqlite:// refused clearly (exit 2).
check-no-sqlite:
	$(CARGO) build --no-default-features --features postgres,cli
	@n=$$($(CARGO) tree --no-default-features --features postgres,cli | grep -c rusqlite); \
	if [ "$$n" != 0 ]; then echo "check-no-sqlite: rusqlite appears $$n times in the postgres-only tree"; exit 1; fi
	@out=$$(./target/debug/synthlab-db --database-url sqlite://no-sqlite-check.db status 2>&1); code=$$?; \
	if [ "$$code" != 2 ] || ! echo "$$out" | grep -q "no SQLite backend"; then \
	  echo "check-no-sqlite: expected exit 2 and a clear error for sqlite://, got $$code: $$out"; exit 1; fi; \
	echo "check-no-sqlite: ok: 0 rusqlite in cargo tree; sqlite:// refused with exit 2: $$out"

## Cost of dual and shadow routing on one read and one write, as ratios to the single-store call (needs PostgreSQL).
BENCH_DATABASE_URL ?= $(PARITY_DATABASE_URL)
export BENCH_DATABASE_URL
bench-cutover:
	$(CARGO) bench --bench cutover

## The example service walked through dual → shadow → shadow:postgres → postgres (./cutover-demo.db + database synthlab_cutover_demo).
cutover-demo:
	scripts/cutover-demo.sh

## Copy benchmark: our copy (+ verify) vs pgloader vs psql \copy + index build, on one generated file.
SCALE ?= 1
bench-copy:
	scripts/bench-copy.sh $(SCALE)

## A deterministic legacy file: make legacy-file SCALE=1 LAYOUT=15 SEED=7 OUT=legacy.db [DIRTY=1] [FORCE=1 replaces OUT]
LAYOUT ?= 15
SEED ?= 7
OUT ?= legacy.db
legacy-file:
	$(CARGO) run --quiet --release --bin synthlab-db -- generate --out $(OUT) --scale $(SCALE) --layout $(LAYOUT) --seed $(SEED) $(if $(DIRTY),--dirty,) $(if $(FORCE),--force,)

## The library as a service links it (default-features = false, features = ["sqlite", "postgres"]):
## it builds, and none of the tool crates (CLI, progress bars, log output, anyhow, .env) is in its tree.
LIB_ONLY_FEATURES = --no-default-features --features sqlite,postgres
check-lib-only:
	$(CARGO) build --lib $(LIB_ONLY_FEATURES)
	@tree=$$($(CARGO) tree -e normal --prefix none $(LIB_ONLY_FEATURES)) || exit 1; \
	found=$$(echo "$$tree" | grep -E '^(clap|indicatif|anyhow|dotenvy|tracing-subscriber) v' | sort -u | tr '\n' ' '); \
	if [ -n "$$found" ]; then echo "check-lib-only: tool crates in the library's tree: $$found"; exit 1; fi; \
	echo "check-lib-only: ok: $$(echo "$$tree" | sort -u | wc -l) crates, none of clap, indicatif, anyhow, dotenvy, tracing-subscriber"

## Live sync: capture overhead, steady lag at 60 and 500 writes/s, drain, apply throughput, initial sync under writes, peak RSS (release build).
bench-sync:
	$(CARGO) build --release --bin synthlab-db --example bench_sync
	BENCH_DATABASE_URL=$${BENCH_DATABASE_URL:-$(PARITY_DATABASE_URL)} ./target/release/examples/bench_sync
