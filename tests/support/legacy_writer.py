#!/usr/bin/env python3
"""A stand-in for the legacy SynthLab application: writes a legacy SQLite file with the
standard `sqlite3` module and the legacy SQL, as the application does (its own connection,
its default rollback-journal behaviour, `PRAGMA foreign_keys=ON`, a 5 s busy timeout).

    legacy_writer.py FILE --rate 60 --seconds 10 [--stop-file PATH] [--seed 1] [--foreign-keys on|off]

Each transaction is one of: a new experiment with its interview guide (multi-row), an
update, a soft delete, a hard delete (cascading to its children when foreign keys are on), a
new analysis run with synth outcomes (multi-row), an INSERT OR REPLACE of an outcome (REPLACE
on the (analysis_id, synth_id) unique key), an upsert of a cache entry, a research execution
with transcripts (multi-row), a transcript update, a synth insert or update. It runs at
`--rate` transactions per second until `--seconds` pass or the stop file appears, then prints
one JSON line: transactions, per-kind counts, errors, and the longest time one transaction
took from BEGIN to COMMIT (an upper bound of any lock wait it saw). Exit code 1 on any error.
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import time
from datetime import datetime, timezone


def now():
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class Writer:
    def __init__(self, path, seed, foreign_keys):
        self.db = sqlite3.connect(path, timeout=5.0, isolation_level=None)
        if foreign_keys:
            self.db.execute("PRAGMA foreign_keys=ON")
        self.rng = random.Random(seed)
        self.tag = "%04x%04x" % (seed & 0xFFFF, os.getpid() & 0xFFFF)
        self.n = 0
        self.experiments = []  # ids this writer created (never referenced by explorations)
        self.runs = []  # (run id, experiment id)
        self.executions = []
        self.transcripts = []
        self.synths = []

    def new_id(self, prefix):
        self.n += 1
        return "%s_w%s%06d" % (prefix, self.tag, self.n)

    def new_experiment(self, c):
        e = self.new_id("exp")
        c.execute(
            "INSERT INTO experiments (id, name, hypothesis, description, scorecard_data, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, 'active', ?)",
            (e, "Experiment %s" % e, "Hypothesis " * 5, None, json.dumps({"score": self.rng.random()}), now()),
        )
        c.execute(
            "INSERT INTO interview_guide (experiment_id, context_definition, questions, created_at) VALUES (?, ?, ?, ?)",
            (e, "context", "q1\nq2", now()),
        )
        self.experiments.append(e)

    def update_experiment(self, c):
        if not self.experiments:
            return self.new_experiment(c)
        e = self.rng.choice(self.experiments)
        c.execute(
            "UPDATE experiments SET name = ?, updated_at = ? WHERE id = ?",
            ("Renamed %d" % self.rng.randrange(10**6), now(), e),
        )

    def soft_delete(self, c):
        if not self.experiments:
            return self.new_experiment(c)
        e = self.rng.choice(self.experiments)
        c.execute("UPDATE experiments SET status = 'deleted', updated_at = ? WHERE id = ?", (now(), e))

    def hard_delete(self, c):
        if len(self.experiments) < 5:
            return self.new_experiment(c)
        e = self.experiments.pop(self.rng.randrange(len(self.experiments)))
        c.execute("DELETE FROM experiments WHERE id = ?", (e,))
        self.runs = [r for r in self.runs if r[1] != e]

    def new_run(self, c):
        free = [e for e in self.experiments if e not in {r[1] for r in self.runs}]
        if not free:
            return self.new_experiment(c)
        e = self.rng.choice(free)
        r = self.new_id("ana")
        c.execute(
            "INSERT INTO analysis_runs (id, experiment_id, scenario_id, config, status, started_at, total_synths) "
            "VALUES (?, ?, 'baseline', ?, 'running', ?, 3)",
            (r, e, json.dumps({"n": 3}), now()),
        )
        for s in range(3):
            c.execute(
                "INSERT INTO synth_outcomes (id, analysis_id, synth_id, did_not_try_rate, failed_rate, success_rate, "
                "synth_attributes) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.new_id("out"), r, "syn_%d" % s, 0.1, 0.2, 0.7, json.dumps({"age": 30 + s})),
            )
        self.runs.append((r, e))

    def replace_outcome(self, c):
        if not self.runs:
            return self.new_run(c)
        r, _ = self.rng.choice(self.runs)
        rate = self.rng.random()
        c.execute(
            "INSERT OR REPLACE INTO synth_outcomes (id, analysis_id, synth_id, did_not_try_rate, failed_rate, "
            "success_rate, synth_attributes) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.new_id("out"), r, "syn_%d" % self.rng.randrange(3), 0.0, 1.0 - rate, rate, "{}"),
        )

    def upsert_cache(self, c):
        if not self.runs:
            return self.new_run(c)
        r, _ = self.rng.choice(self.runs)
        c.execute(
            "INSERT INTO analysis_cache (analysis_id, cache_key, data, params, computed_at) VALUES (?, ?, ?, NULL, ?) "
            "ON CONFLICT (analysis_id, cache_key) DO UPDATE SET data = excluded.data, computed_at = excluded.computed_at",
            (r, "chart_%d" % self.rng.randrange(3), json.dumps({"v": self.rng.random()}), now()),
        )

    def new_execution(self, c):
        x = self.new_id("exec")
        e = self.rng.choice(self.experiments) if self.experiments else None
        c.execute(
            "INSERT INTO research_executions (exec_id, experiment_id, topic_name, status, synth_count, started_at) "
            "VALUES (?, ?, 'topic', 'running', 2, ?)",
            (x, e, now()),
        )
        for s in range(2):
            t = self.new_id("tr")
            c.execute(
                "INSERT INTO transcripts (id, exec_id, synth_id, synth_name, status, turn_count, timestamp, messages) "
                "VALUES (?, ?, ?, 'Ana', 'pending', 0, ?, '[]')",
                (t, x, "syn_%d" % s, now()),
            )
            self.transcripts.append(t)
        self.executions.append(x)

    def update_transcript(self, c):
        if not self.transcripts:
            return self.new_execution(c)
        t = self.rng.choice(self.transcripts)
        c.execute(
            "UPDATE transcripts SET status = 'completed', turn_count = turn_count + 1, messages = ? WHERE id = ?",
            (json.dumps([{"role": "user", "content": "hi %d" % self.rng.randrange(1000)}]), t),
        )

    def synth(self, c):
        if self.synths and self.rng.random() < 0.5:
            s = self.rng.choice(self.synths)
            c.execute("UPDATE synths SET descricao = ?, data = ? WHERE id = ?", ("d", json.dumps({"x": 1}), s))
            return
        s = self.new_id("syn")
        c.execute(
            "INSERT INTO synths (id, synth_group_id, nome, created_at, version, data) VALUES (?, NULL, ?, ?, '2.0.0', ?)",
            (s, "Nome", now(), json.dumps({"idade": 40})),
        )
        self.synths.append(s)

    KINDS = [
        ("new_experiment", 3),
        ("update_experiment", 3),
        ("soft_delete", 1),
        ("hard_delete", 1),
        ("new_run", 2),
        ("replace_outcome", 2),
        ("upsert_cache", 2),
        ("new_execution", 2),
        ("update_transcript", 2),
        ("synth", 2),
    ]

    def one(self):
        kinds = [k for k, w in self.KINDS for _ in range(w)]
        kind = self.rng.choice(kinds)
        started = time.monotonic()
        self.db.execute("BEGIN")
        try:
            getattr(self, kind)(self.db)
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        return kind, time.monotonic() - started


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--rate", type=float, default=60.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--stop-file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--foreign-keys", choices=["on", "off"], default="on")
    args = ap.parse_args()

    w = Writer(args.file, args.seed, args.foreign_keys == "on")
    counts = {}
    errors = []
    longest = 0.0
    total = 0
    start = time.monotonic()
    interval = 1.0 / args.rate if args.rate > 0 else 0.0
    next_at = start
    while time.monotonic() - start < args.seconds:
        if args.stop_file and os.path.exists(args.stop_file):
            break
        try:
            kind, took = w.one()
            counts[kind] = counts.get(kind, 0) + 1
            longest = max(longest, took)
            total += 1
        except Exception as err:  # every error counts: the application would have failed
            errors.append("%s: %s" % (type(err).__name__, err))
            if len(errors) > 20:
                break
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.monotonic()
    elapsed = time.monotonic() - start
    print(
        json.dumps(
            {
                "transactions": total,
                "seconds": round(elapsed, 3),
                "rate": round(total / elapsed, 1) if elapsed > 0 else 0,
                "kinds": counts,
                "errors": errors,
                "longest_transaction_ms": round(longest * 1000, 1),
            }
        )
    )
    sys.stdout.flush()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
