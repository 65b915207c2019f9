"""`avp-media STEP --job-id ID [--language L]`: the Cloud Run Job contract.

Exit 0: done. Exit PERMANENT_FAILURE_EXIT_CODE: the job failed for a reason no retry can fix; the
reason is recorded on the job and the job marked failed, which is what the workflow reads back
(a failed Cloud Run Job execution reaches it without the exit status). Exit 1: a transient
failure (see avp.pipeline.failures), its reason kept on the job, retried by the workflow.
`avp-media fail` marks the job failed once the workflow gives up. `avp-media bundle --job-id
DOWNLOAD_ID` builds a bulk-download ZIP (workflows/bundle.workflows.yaml).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from avp import logs
from avp.bootstrap import container
from avp.domain import jobs, language_qc
from avp.domain.audit import SYSTEM
from avp.errors import Conflict
from avp.pipeline.context import StepContext
from avp.pipeline.failures import classify, clean, sentence

PERMANENT_FAILURE_EXIT_CODE = 3
RETRIES = 3
"""How often the workflows run a step again after a transient failure (`max_retries` in the YAML)."""
log = logs.get("pipeline")


def finalize(units, job_id: str) -> None:
    """processing -> pending_qc, with a QC entry for every target language."""
    job = jobs.get_job(units, job_id)
    languages = {lang: job.languages.get(lang) or {**language_qc.EMPTY_ENTRY, "cues_reviewed": []} for lang in language_qc.target_languages(job)}
    try:
        jobs.transition(units, SYSTEM, job_id, "finish_processing", changes={"progress": 1.0, "languages": languages})
    except Conflict as exc:
        log.warning("not moved to pending_qc: %s", exc.detail)


def _step_key(step: str, language: str | None) -> str:
    return f"{step}_{language}" if language else step


def record_transient(store, job_id: str, step: str, language: str | None, reason: str) -> None:
    """Keep the reason of a failure the workflow will retry: if every attempt fails, the job's
    `failure_reason` is this sentence, not the platform's "the task exited with an error"."""
    jobs.change(store, SYSTEM, job_id, "step_error", lambda _job: {f"step_errors.{_step_key(step, language)}": reason})


def give_up(store, job_id: str, step: str, language: str | None, platform_message: str | None) -> None:
    """The workflow stopped retrying `step`: fail the job with the step's own last reason when it
    recorded one, else with the platform's message."""
    recorded = (jobs.get_job(store, job_id).get("step_errors") or {}).get(_step_key(step, language))
    if recorded:
        reason = f"{recorded.rstrip('.')} (tried {RETRIES + 1} times)."
    else:
        reason = sentence(step, clean(platform_message or "") or "the step kept failing", language=language)
    jobs.fail(store, SYSTEM, job_id, step, reason, language)


def run_step(step: str, job_id: str, language: str | None, attempt: int) -> int:
    from avp.pipeline.steps import STEPS

    c = container()
    store = c.store
    if step == "finalize":
        finalize(store, job_id)
        return 0
    job = jobs.get_job(store, job_id)
    if job["status"] in ("cancelled", "failed") and step != "render":
        logs.event(log, f"job is {job['status']}; {step} not run", job_id=job_id, step=step)
        return 0
    started = time.monotonic()
    logs.event(log, f"{step} started", job_id=job_id, step=step, attempt=attempt, language=language)
    with tempfile.TemporaryDirectory(prefix=f"avp-{step}-") as tmp:
        ctx = StepContext(step, job_id, c, Path(tmp), language=language, attempt=attempt, _job=job)
        try:
            ctx.progress(0.0)
            made = STEPS[step](ctx)
        except Exception as exc:
            failure = classify(exc, step, language=language)
            log.error("%s (attempt %s, %s)", failure.reason, attempt, "permanent" if failure.permanent else "will be retried",
                      exc_info=exc, extra={"fields": {"job_id": job_id, "step": step}})
            if failure.permanent:
                # Recorded on the job first: the workflow reads the job's status back to tell this
                # from a transient failure (a failed Cloud Run Job execution carries no exit code).
                jobs.fail(store, SYSTEM, job_id, step, failure.reason, language)
                return PERMANENT_FAILURE_EXIT_CODE
            record_transient(store, job_id, step, language, failure.reason)
            return 1
        ctx.progress(1.0)
    elapsed = round(time.monotonic() - started, 3)
    done = step if not language else f"{step}:{language}"
    jobs.record_step(store, job_id, done, elapsed, made if isinstance(made, jobs.StepResult) else jobs.StepResult(made))
    logs.event(log, f"{step} done in {elapsed} s", job_id=job_id, step=step, seconds=elapsed)
    return 0


def bundle(download_id: str, reason: str | None = None) -> int:
    """`avp-media bundle --job-id DOWNLOAD_ID`: build a bulk-download ZIP (the id names the
    download); with --reason, the workflow gave up and the download is marked failed."""
    from avp.domain import downloads

    c = container()
    if reason:
        downloads.fail(c.store, download_id, reason)
        return 0
    started = time.monotonic()
    try:
        built = downloads.build(c.store, c.storage, download_id)
    except Exception as exc:
        failure = classify(exc, "bundle")
        log.error("bundle %s failed: %s", download_id, failure.reason, exc_info=exc)
        downloads.fail(c.store, download_id, failure.reason)
        return PERMANENT_FAILURE_EXIT_CODE if failure.permanent else 1
    logs.event(log, f"bundle done in {round(time.monotonic() - started, 3)} s", download_id=download_id,
               zip_bytes=built["zip_bytes"])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="avp-media", description="run one media step of a job")
    parser.add_argument("step")
    parser.add_argument("--job-id", required=True)
    parser.add_argument("--language", default=None)
    parser.add_argument("--failed-step", default=None, help="with `fail`: the step that failed")
    parser.add_argument("--reason", default=None, help="with `fail`: why")
    args = parser.parse_args(argv)
    logs.configure(os.environ.get("AVP_LOG_LEVEL", "INFO"), stream=sys.stdout)
    attempt = int(os.environ.get("CLOUD_RUN_TASK_ATTEMPT", "0"))
    if args.step == "fail":
        give_up(container().store, args.job_id, args.failed_step or "unknown", args.language, args.reason)
        return 0
    if args.step == "bundle":
        return bundle(args.job_id, args.reason)
    from avp.pipeline.steps import STEPS

    if args.step not in STEPS and args.step != "finalize":
        print(f"unknown step {args.step!r}; expected one of {', '.join([*STEPS, 'finalize', 'fail'])}", file=sys.stderr)
        return 2
    return run_step(args.step, args.job_id, args.language, attempt)


if __name__ == "__main__":
    sys.exit(main())
