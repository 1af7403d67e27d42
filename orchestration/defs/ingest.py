"""Ingest: submissions from the landing folder into the warehouse's raw tables.

`submission` is partitioned by (reporting unit, period): the dynamic partition `120104|2007H2`
holds every version of that unit's submission for that half-year. The landing sensor adds the
key when it first sees a file for it; `qiangji run` adds the keys of its landing folder. Files
whose name names no reporting unit and period go to the partition `unmatched` (they are rejected
and logged like any other). A run of many partitions is one run (`BackfillPolicy.single_run()`),
ingesting through one DuckDB connection, as fast as ingesting the folder in one go.

`raw/*` are the raw tables as a whole, audited after every ingest and before every dbt build: their
blocking check `raw_integrity` keeps an inconsistent raw layer from reaching the marts.
"""

import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import polars as pl
from sqlalchemy.exc import IntegrityError

from ingest.identity import mask_ids_in_text
from ingest.load import RAW_TABLES
from ingest.pipeline import RAW_INVARIANTS, IngestOutcome, audit_raw, ingest_landing, landing_partitions
from orchestration.project import DATA_ENGINEERING, catalog_tags
from orchestration.resources import WAREHOUSE_POOL, IngestLimits, PseudonymKey, QiangjiHome

# `backfill_policy` is beta in Dagster 1.13; it is what makes a backfill of all periods one run.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)

SUBMISSIONS = dg.DynamicPartitionsDefinition(name="submission")
SUBMISSION = dg.AssetKey(["submission"])
RAW_KEYS = [dg.AssetKey(["raw", table]) for table in RAW_TABLES]
STATUSES = ("accepted", "rejected", "superseded", "unchanged", "pending")
# The run tags of a single run over a partition range, as Dagster's single-run backfills set them.
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
SAMPLE_SIZE = 20  # problems shown in a check's metadata (values are masked by ingest already)
PROGRESS_EVERY = 50  # files between progress lines; files with problems are always logged
FILE_DONE = "ingested {done}/{total}: "  # + the file name; a debug line per file (orchestration/progress.py)


@dg.asset(
    key=SUBMISSION,
    partitions_def=SUBMISSIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),  # a backfill of all periods is one run
    group_name="ingest",
    kinds={"python", "duckdb"},
    owners=[DATA_ENGINEERING],
    tags=catalog_tags("ingest", member_rows=True),  # it loads every member row of its files
    pool=WAREHOUSE_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            "rows_pass_pandera",
            asset=SUBMISSION,
            description="pandera row rules of every sheet: rows failing one are quarantined (warning)",
        ),
        dg.AssetCheckSpec(
            "no_submission_rejected",
            asset=SUBMISSION,
            description="no file of the partition was rejected as a whole (warning: the previous "
            "accepted version, if any, stays current)",
        ),
    ],
)
def submission(
    context: dg.AssetExecutionContext,
    qiangji: QiangjiHome,
    pseudonym_key: PseudonymKey,
    ingest_limits: IngestLimits,
) -> Iterator[object]:
    """A reporting unit's submission for a half-year: every version found in the landing folder,
    archived, read, validated (pandera), pseudonymized and loaded into raw.* (one transaction each).
    """
    keys = set(context.partition_keys)
    settings = ingest_limits.settings()
    by_key = landing_partitions(qiangji.layout.landing, settings.quiet_seconds)
    paths = [p for key, files in by_key.items() if key in keys for p in files]
    key = pseudonym_key.load(qiangji.layout)
    done: list[IngestOutcome] = []

    def progress(o: IngestOutcome) -> None:
        done.append(o)
        context.log.debug(FILE_DONE.format(done=len(done), total=len(paths)) + o.file_name)
        if o.status in ("rejected", "pending") or o.quarantined_rows:
            context.log.warning(
                f"{o.file_name}: {o.status}"
                + (f", {o.quarantined_rows} quarantined rows" if o.quarantined_rows else "")
                + (f" — {o.reason.rule}" if o.reason else "")
            )
        elif len(done) % PROGRESS_EVERY == 0:
            context.log.info(f"{len(done)}/{len(paths)} files ingested")

    outcomes = ingest_landing(
        paths,
        qiangji.layout.warehouse,
        qiangji.layout.archive,
        key,
        settings,
        progress=progress,
    )
    record_pandera_audit(qiangji, outcomes, context.run.run_id)
    statuses = Counter(o.status for o in outcomes)
    context.log.info(
        f"{len(outcomes)} files in {len(keys)} partitions: "
        + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    )
    yield dg.MaterializeResult(
        asset_key=SUBMISSION,
        metadata={
            "files": dg.MetadataValue.int(len(outcomes)),
            **{status: dg.MetadataValue.int(statuses.get(status, 0)) for status in STATUSES},
            "quarantined_rows": dg.MetadataValue.int(sum(o.quarantined_rows for o in outcomes)),
        },
    )
    yield pandera_check(outcomes)
    yield rejection_check(outcomes)


def record_pandera_audit(qiangji: QiangjiHome, outcomes: list[IngestOutcome], run_id: str) -> None:
    """Every rule checked on every submission of the run, into audit.audit_check_results."""
    import duckdb

    from ingest.audit_rows import pandera_rows
    from ingest.schemas import checked_rules
    from warehouse.audit import now, write_audit_rows

    at, rules = now(), checked_rules()
    frames = [pandera_rows(o, rules, run_id, at) for o in outcomes if o.status != "unchanged"]
    if not frames:
        return
    frame = pl.concat(frames)
    with duckdb.connect(str(qiangji.layout.warehouse)) as con:
        write_audit_rows(con, frame)


def _problems(outcomes: list[IngestOutcome]) -> pl.DataFrame:
    frames = [
        o.problems.with_columns(pl.lit(o.file_name).alias("file")) for o in outcomes if o.problems.height
    ]
    return pl.concat(frames) if frames else pl.DataFrame()


def pandera_check(outcomes: list[IngestOutcome]) -> dg.AssetCheckResult:
    """Rows checked, failures by rule and a sample of failing cells; fails (a warning) when a row
    broke a rule, whether it was quarantined or its file rejected for too many such rows."""
    validated = [o for o in outcomes if o.status == "accepted"]
    problems = _problems(outcomes)
    row_problems = problems.filter(pl.col("severity") != "structural") if problems.height else problems
    by_rule = (
        dict(sorted(row_problems.group_by("rule").len().iter_rows(), key=lambda kv: -kv[1]))
        if row_problems.height
        else {}
    )
    quarantined = sum(o.quarantined_rows for o in outcomes)
    failing = row_problems.filter(pl.col("severity") == "row") if row_problems.height else row_problems
    return dg.AssetCheckResult(
        asset_key=SUBMISSION,
        check_name="rows_pass_pandera",
        passed=failing.height == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files_validated": dg.MetadataValue.int(len(validated)),
            "rows_checked": dg.MetadataValue.int(sum(sum(o.rows.values()) for o in validated)),
            "quarantined_rows": dg.MetadataValue.int(quarantined),
            "failures_by_rule": dg.MetadataValue.json(by_rule),
            "sample": dg.MetadataValue.md(_sample(row_problems)),
        },
    )


def rejection_check(outcomes: list[IngestOutcome]) -> dg.AssetCheckResult:
    rejected = [o for o in outcomes if o.status == "rejected"]
    reasons = Counter(o.reason.rule for o in rejected if o.reason)
    return dg.AssetCheckResult(
        asset_key=SUBMISSION,
        check_name="no_submission_rejected",
        passed=not rejected,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rejected": dg.MetadataValue.int(len(rejected)),
            "reasons": dg.MetadataValue.json(dict(reasons)),
            "files": dg.MetadataValue.md(
                "\n".join(f"- {o.file_name}: {o.reason.rule if o.reason else '?'}" for o in rejected[:50])
                or "none"
            ),
        },
    )


def _sample(problems: pl.DataFrame) -> str:
    """A markdown table of the first problems. Values come masked from ingest (a national ID keeps
    its area code and last four; names never leave the reader); anything ID-like left is masked too."""
    if not problems.height:
        return "none"
    columns = ["file", "sheet", "row", "column", "value", "rule", "severity"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in problems.head(SAMPLE_SIZE).select(columns).iter_rows():
        cells = ("" if v is None else mask_ids_in_text(str(v)) for v in row)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            deps=[SUBMISSION],
            group_name="ingest",
            kinds={"duckdb"},
            owners=[DATA_ENGINEERING],
            tags=catalog_tags("raw", member_rows=True),  # raw rows: never published
            description=f"raw.{table}: written by `submission`, one transaction per file; audited here",
        )
        for table, key in zip(RAW_TABLES, RAW_KEYS, strict=True)
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "raw_integrity",
            asset=dg.AssetKey(["raw", "submissions"]),
            blocking=True,
            description="Blocking: " + "; ".join(RAW_INVARIANTS.values()),
        )
    ],
    pool=WAREHOUSE_POOL,
    can_subset=False,
)
def raw_tables(qiangji: QiangjiHome) -> Iterator[object]:
    """The raw layer as a whole: rows per table, and the invariants the dbt models rely on."""
    audit = audit_raw(qiangji.layout.warehouse)
    for table, key in zip(RAW_TABLES, RAW_KEYS, strict=True):
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={"dagster/row_count": dg.MetadataValue.int(audit.row_counts[table])},
        )
    yield dg.AssetCheckResult(
        asset_key=dg.AssetKey(["raw", "submissions"]),
        check_name="raw_integrity",
        passed=audit.ok,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={name: dg.MetadataValue.int(n) for name, n in audit.violations.items()},
    )


def register_landing(instance: dg.DagsterInstance, landing: Path, quiet_seconds: float = 0.0) -> list[str]:
    """Add a partition for every (reporting unit, period) with a file in `landing`; all keys, in order."""
    wanted = list(landing_partitions(landing, quiet_seconds))
    for attempt in range(3):
        known = set(instance.get_dynamic_partitions(SUBMISSIONS.name))
        new = [k for k in wanted if k not in known]
        try:
            if new:
                instance.add_dynamic_partitions(SUBMISSIONS.name, new)
            break
        except IntegrityError:  # another process added some of them meanwhile: look again
            if attempt == 2:
                raise
    return list(instance.get_dynamic_partitions(SUBMISSIONS.name))


def all_partitions_tags(keys: list[str]) -> dict[str, str]:
    """Run tags of a single-run backfill over every submission partition (as the UI's backfill sets)."""
    return {PARTITION_RANGE_START_TAG: keys[0], PARTITION_RANGE_END_TAG: keys[-1]}


defs = dg.Definitions(assets=[submission, raw_tables])
