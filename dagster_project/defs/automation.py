"""When the pipeline runs by itself: a sensor on ``inbox/`` and a daily schedule.

Both register each inbox file version as a partition of ``raw_batches`` (``svod_batches``) and
request one run for what is new, tagged with the batch. Both are STOPPED by default, so neither
fires in tests or in a fresh ``dagster dev``; switch them on in the UI.
"""

import hashlib
import json
from collections.abc import Sequence

import dagster as dg

from dagster_project.defs.pipeline import BATCHES, BATCHES_NAME, svod_job
from dagster_project.resources import SvodWorkspace
from pipelines.batches import Batch, inbox_batches, ingested

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def batch_tags(batches: list[Batch]) -> dict[str, str]:
    """Run tags naming the batch (or how many, and the first) a run ingests."""
    if len(batches) == 1:
        b = batches[0]
        return {
            "svod/batch": b.batch_id,
            "svod/file": b.relpath[:200],
            "svod/source": b.source.name,
        }
    return {"svod/batch": f"{len(batches)} batches from {batches[0].relpath[:150]}"}


def run_for(keys: Sequence[str], batches: list[Batch], run_key: str | None = None) -> dg.RunRequest:
    """One run over ``keys`` (consecutive partitions): a single key or a partition range."""
    tags = batch_tags(batches)
    if len(keys) == 1:
        return dg.RunRequest(run_key=run_key, partition_key=keys[0], tags=tags)
    return dg.RunRequest(run_key=run_key, tags={**tags, RANGE_START: keys[0], RANGE_END: keys[-1]})


@dg.sensor(
    job=svod_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="New or changed files in inbox/: registers them as batches and runs the pipeline.",
)
def inbox_sensor(
    context: dg.SensorEvaluationContext, workspace: SvodWorkspace
) -> dg.SensorResult | dg.SkipReason:
    ws = workspace.open()
    hashes: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    batches = inbox_batches(ws, hashes)
    known = set(context.instance.get_dynamic_partitions(BATCHES_NAME))
    new = [b for b in batches if b.key not in known]
    cursor = json.dumps(
        {k: v for k, v in hashes.items() if k.split("|")[0] in {b.relpath for b in batches}}
    )
    if not new:
        return dg.SkipReason(f"no new files in {ws.inbox}")
    to_run = [b for b in new if not ingested(ws, b)]
    keys = [b.key for b in new]
    requests = []
    if to_run:
        drop = hashlib.sha256("\n".join(b.key for b in to_run).encode()).hexdigest()[:16]
        requests.append(run_for([b.key for b in to_run], to_run, run_key=f"drop-{drop}"))
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[BATCHES.build_add_request(keys)],
        cursor=cursor,
    )


@dg.schedule(
    job=svod_job,
    cron_schedule="0 3 * * *",
    execution_timezone="Europe/Moscow",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every night at 03:00 Moscow time: ingest what is new, re-resolve, publish.",
)
def daily_schedule(
    context: dg.ScheduleEvaluationContext, workspace: SvodWorkspace
) -> dg.RunRequest | dg.SkipReason:
    ws = workspace.open()
    batches = inbox_batches(ws)
    if not batches:
        return dg.SkipReason(f"inbox {ws.inbox} is empty")
    known = list(context.instance.get_dynamic_partitions(BATCHES_NAME))
    missing = [b.key for b in batches if b.key not in set(known)]
    if missing:
        context.instance.add_dynamic_partitions(BATCHES_NAME, missing)
        known = [*known, *missing]
    current = {b.key for b in batches}
    ordered = [k for k in known if k in current]
    first, last = known.index(ordered[0]), known.index(ordered[-1])
    return run_for(known[first : last + 1], batches)
