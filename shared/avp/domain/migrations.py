"""Bringing stored data up to what this version reads: the steps `avp migrate` runs after each
deploy (every step, each idempotent) and `avp up` runs at start (only the steps this data has not
had: a step, once run, is recorded as a `Migration`, so a start does not read every job again).
A new step gets a new name here; what it fixes, its writers keep right from then on."""
from __future__ import annotations

from collections.abc import Callable

from avp.domain import jobs, language_qc, tenancy
from avp.domain.aggregates import Migration
from avp.domain.ports import Database
from avp.domain.records import now

# (name, what it reports from its (records, changed) counts, the step)
STEPS: tuple[tuple[str, str, Callable[[Database], tuple[int, int]]], ...] = (
    ("job-access-keys-live", "job access keys: {1} of {0} job(s) brought up to date", jobs.refresh_access_keys),
    ("language-work-queue", "language work queue: {1} entries for {0} job(s) in QC", language_qc.rebuild_queue),
    ("organization-member-ids", "organization member ids: {1} of {0} organization(s) brought up to date",
     tenancy.backfill_member_ids),
    ("client-viewer-ids", "client viewer ids: {1} of {0} client(s) brought up to date", tenancy.backfill_viewer_ids),
)


def run(store: Database, *, every: bool) -> list[str]:
    """Run the steps (all of them when `every`, else those not yet recorded as done), recording
    each as done; returns one line per step run, saying what it changed."""
    done = {m.id for m in store.of(Migration).get_many([name for name, _, _ in STEPS])}
    lines = []
    for name, report, step in STEPS:
        if name in done and not every:
            continue
        line = report.format(*step(store))
        store.of(Migration).put(Migration(id=name, done_at=now(), report=line))
        lines.append(line)
    return lines
