#!/usr/bin/env bash
# The example service (examples/cutover_service.rs) walked through the cutover modes on a
# fresh SQLite file (./cutover-demo.db) and a fresh PostgreSQL database (synthlab_cutover_demo
# on the server of PARITY_DATABASE_URL). Both stores start empty, so no initial copy is needed;
# on real data, start with `synthlab-db copy` + `verify` (docs/cutover.md).
set -euo pipefail
cd "$(dirname "$0")/.."
server="${PARITY_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
database=synthlab_cutover_demo
psql "$server" -q -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" -c "CREATE DATABASE $database"
rm -f cutover-demo.db cutover-demo.db-wal cutover-demo.db-shm
cargo build --quiet --example cutover_service
service=target/debug/examples/cutover_service
export DATABASE_URL=sqlite://cutover-demo.db
export SYNTHLAB_POSTGRES_URL="${server%/*}/$database"
phase=0
for mode in dual shadow shadow:postgres postgres; do
  phase=$((phase + 1))
  echo "=== phase $phase: SYNTHLAB_ROUTE_DEFAULT=$mode"
  SYNTHLAB_ROUTE_DEFAULT=$mode "$service" --phase "$phase"
  echo
done
