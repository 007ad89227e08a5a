#!/usr/bin/env bash
# The copy benchmark (`make bench-copy SCALE=N`): one generated legacy file, one PostgreSQL,
# three ways of loading it, printed side by side.
#   1. synthlab-db copy (and, timed separately, synthlab-db verify)
#   2. pgloader with its default SQLite load (installed with apt-get when missing)
#   3. the physical limit: the data pre-exported to CSV, loaded with psql \copy into the same
#      schema without indexes or constraints, then the indexes, keys and foreign keys built
# Peak RSS is measured with getrusage (ru_maxrss of the finished child).
set -euo pipefail
cd "$(dirname "$0")/.."

SCALE="${1:-${SCALE:-1}}"
SEED="${SEED:-7}"
PGURL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432}"
WORK="${BENCH_DIR:-target/bench}"
BIN=target/release/synthlab-db
mkdir -p "$WORK"
FILE="$WORK/legacy-s${SCALE}-seed${SEED}.db"

cargo build --release --quiet --bin synthlab-db

# Runs a command, prints "<seconds> <peak RSS KiB>" on fd 3; the command's output goes to $2.
measure() {
  local out="$1"; shift
  python3 - "$out" "$@" <<'EOF'
import resource, subprocess, sys, time
out = open(sys.argv[1], "w")
start = time.monotonic()
code = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT).returncode
elapsed = time.monotonic() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{elapsed:.3f} {rss} {code}")
EOF
}

fresh_db() {
  psql "$PGURL/postgres" -qXc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}

if [ ! -f "$FILE" ]; then
  echo "generating $FILE (scale $SCALE, seed $SEED)…"
  $BIN generate --out "$FILE" --scale "$SCALE" --seed "$SEED" --format json > "$FILE.json"
fi
ROWS=$(python3 -c "import json,sys; print(sum(n for _, n in json.load(open(sys.argv[1]))['rows']))" "$FILE.json")
SIZE=$(du -m "$FILE" | cut -f1)
echo "source: $FILE, $ROWS rows, ${SIZE} MB"

# 1. this project's copy, then its verify
fresh_db synthlab_bench_ours
read -r OURS_S OURS_RSS OURS_RC < <(measure "$WORK/ours.log" $BIN copy --from "sqlite://$FILE" --to "$PGURL/synthlab_bench_ours")
[ "$OURS_RC" = 0 ] || { echo "synthlab-db copy failed:"; cat "$WORK/ours.log"; exit 1; }
read -r VERIFY_S VERIFY_RSS VERIFY_RC < <(measure "$WORK/verify.log" $BIN verify --from "sqlite://$FILE" --to "$PGURL/synthlab_bench_ours")
[ "$VERIFY_RC" = 0 ] || { echo "synthlab-db verify found differences:"; cat "$WORK/verify.log"; exit 1; }

# 2. pgloader
PGL_S=""; PGL_RSS=""; PGL_NOTE=""
if ! command -v pgloader >/dev/null 2>&1; then
  echo "pgloader is missing: installing it (apt-get)…"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgloader; } >"$WORK/apt.log" 2>&1; then
    PGL_NOTE="pgloader could not be installed (see $WORK/apt.log)"
  fi
fi
pgl_rows() {
  local q
  q=$(psql "$PGURL/synthlab_bench_pgloader" -tAXc "SELECT string_agg(format('SELECT count(*) FROM %I.%I', table_schema, table_name), ' UNION ALL ')
        FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'")
  [ -n "$q" ] && psql "$PGURL/synthlab_bench_pgloader" -tAXc "SELECT sum(count) FROM ($q) t(count)" || echo 0
}
if command -v pgloader >/dev/null 2>&1; then
  fresh_db synthlab_bench_pgloader
  read -r PGL_S PGL_RSS PGL_RC < <(measure "$WORK/pgloader.log" pgloader "sqlite://$(realpath "$FILE")" "$PGURL/synthlab_bench_pgloader" </dev/null)
  PGL_ROWS=$(pgl_rows)
  if [ "$PGL_RC" != 0 ] || [ "${PGL_ROWS:-0}" -lt $((ROWS / 2)) ]; then
    PGL_NOTE="pgloader's default load failed (exit $PGL_RC after ${PGL_S}s, $PGL_ROWS rows stored; $(grep -m1 -oE 'Heap exhausted[^.]*' "$WORK/pgloader.log" || echo 'see pgloader.log')); rerun with a 4 GiB Lisp heap (--dynamic-space-size 4096)"
    fresh_db synthlab_bench_pgloader
    read -r PGL_S PGL_RSS PGL_RC < <(measure "$WORK/pgloader.log" pgloader --dynamic-space-size 4096 "sqlite://$(realpath "$FILE")" "$PGURL/synthlab_bench_pgloader" </dev/null)
    PGL_ROWS=$(pgl_rows)
  fi
  PGL_NOTE="${PGL_NOTE:+$PGL_NOTE; }pgloader exit $PGL_RC, stored $PGL_ROWS of $ROWS rows (its summary: $WORK/pgloader.log)"
fi

# 3. the physical limit: CSV export (not timed), \copy without indexes, then indexes + keys
CSV="$WORK/csv-s${SCALE}"
if [ ! -f "$CSV/done" ]; then
  echo "exporting to CSV (not timed)…"
  mkdir -p "$CSV"
  python3 - "$FILE" "$CSV" <<'EOF'
import sqlite3, sys, os
src, out = sys.argv[1], sys.argv[2]
con = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
con.text_factory = bytes
def field(v):
    if v is None: return b"\\N"
    if isinstance(v, bytes): return b'"' + v.replace(b'"', b'""') + b'"'
    if isinstance(v, float): return repr(v).encode()
    return str(v).encode()
tables = [r[0].decode() for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
for t in tables:
    cols = [r[1].decode() for r in con.execute(f"PRAGMA table_info({t})")]
    with open(os.path.join(out, f"{t}.csv"), "wb") as f:
        for row in con.execute(f"SELECT {', '.join(cols)} FROM {t}"):
            f.write(b",".join(field(v) for v in row) + b"\n")
    with open(os.path.join(out, f"{t}.cols"), "w") as f:
        f.write(", ".join(f'"{c}"' for c in cols))
open(os.path.join(out, "done"), "w").close()
EOF
fi
fresh_db synthlab_bench_copy
DATABASE_URL="$PGURL/synthlab_bench_copy" $BIN migrate >/dev/null
Q() { psql "$PGURL/synthlab_bench_copy" -tAXc "$1"; }
Q "SELECT 'ALTER TABLE '||conrelid::regclass||' ADD CONSTRAINT '||quote_ident(conname)||' '||pg_get_constraintdef(oid)||';'
   FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype IN ('p','u','f')
   ORDER BY CASE contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 ELSE 2 END, conrelid::regclass::text, conname" > "$WORK/constraints.sql"
Q "SELECT pg_get_indexdef(i.indexrelid)||';' FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
   WHERE c.relnamespace = 'public'::regnamespace AND c.relname <> 'refinery_schema_history'
     AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)" > "$WORK/indexes.sql"
Q "SELECT 'ALTER TABLE '||conrelid::regclass||' DROP CONSTRAINT '||quote_ident(conname)||';'
   FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND contype IN ('p','u','f')
     AND conrelid <> 'refinery_schema_history'::regclass
   ORDER BY CASE contype WHEN 'f' THEN 0 ELSE 1 END" | psql "$PGURL/synthlab_bench_copy" -qX >/dev/null
Q "SELECT 'DROP INDEX '||i.indexrelid::regclass||';' FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
   WHERE c.relnamespace = 'public'::regnamespace AND c.relname <> 'refinery_schema_history'
     AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)" | psql "$PGURL/synthlab_bench_copy" -qX >/dev/null
Q "DELETE FROM synth_groups" >/dev/null
grep -v refinery_schema_history "$WORK/constraints.sql" > "$WORK/constraints.filtered.sql" || true
{
  echo "SET timezone = 'UTC';"
  for t in experiments synth_groups feature_scorecards interview_guide analysis_runs research_executions \
           experiment_documents synths synth_outcomes analysis_cache transcripts explorations scenario_nodes \
           simulation_runs region_analyses sensitivity_results chart_insights; do
    [ -f "$CSV/$t.csv" ] && echo "\\copy $t ($(cat "$CSV/$t.cols")) FROM '$CSV/$t.csv' WITH (FORMAT csv, NULL '\\N')"
  done
  echo "SET maintenance_work_mem = '256MB';"
  cat "$WORK/indexes.sql" "$WORK/constraints.filtered.sql"
} > "$WORK/physical.sql"
read -r PHYS_S PHYS_RSS PHYS_RC < <(measure "$WORK/physical.log" psql "$PGURL/synthlab_bench_copy" -qX -v ON_ERROR_STOP=1 -f "$WORK/physical.sql")
[ "$PHYS_RC" = 0 ] || { echo "the \\copy path failed:"; cat "$WORK/physical.log"; exit 1; }

python3 - "$ROWS" "$OURS_S" "$OURS_RSS" "$VERIFY_S" "$VERIFY_RSS" "${PGL_S:-}" "${PGL_RSS:-}" "$PHYS_S" "$PHYS_RSS" "$PGL_NOTE" <<'EOF'
import sys
rows = int(sys.argv[1])
ours_s, ours_rss, ver_s, ver_rss = float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
pgl_s = float(sys.argv[6]) if sys.argv[6] else None
pgl_rss = int(sys.argv[7]) if sys.argv[7] else None
phys_s, phys_rss, note = float(sys.argv[8]), int(sys.argv[9]), sys.argv[10]
ours = rows / ours_s
print(f"\n{'path':<34} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'ours ÷ it':>10} {'peak RSS':>10}")
def line(name, s, rss, ratio=True):
    rate = rows / s
    r = f"{ours / rate:>9.2f}x" if ratio else f"{'':>10}"
    print(f"{name:<34} {rows:>8} {s:>8.2f} {rate:>9.0f} {r} {rss / 1024:>7.0f} MiB")
line("1. synthlab-db copy", ours_s, ours_rss, ratio=False)
line("   synthlab-db verify (separate)", ver_s, ver_rss, ratio=False)
if pgl_s is not None:
    line("2. pgloader (default SQLite load)", pgl_s, pgl_rss)
else:
    print(f"{'2. pgloader':<34} not run")
line("3. psql \\copy + index/FK build", phys_s, phys_rss)
if note:
    print(f"\nnote: {note}")
print("\ngoals: ≥ 1.5x pgloader, ≥ 0.8x the \\copy path, peak RSS < 200 MiB at scale 4")
checks = []
if pgl_s is not None:
    checks.append(f"vs pgloader {ours / (rows / pgl_s):.2f}x")
checks.append(f"vs \\copy {ours / (rows / phys_s):.2f}x")
checks.append(f"RSS {ours_rss / 1024:.0f} MiB")
print("measured: " + ", ".join(checks))
EOF
