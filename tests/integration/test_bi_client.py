"""A real BI client: SQLAlchemy with duckdb-engine, as Superset and Metabase-style SQL tools connect,
reading `published/marts.duckdb` while `qiangji run` writes the warehouse and publishes anew.

Superset's connection for it is the URI `duckdb:////path/to/published/marts.duckdb` with the engine
parameters `{"connect_args": {"read_only": true}}`; this test uses exactly that.
"""

import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.cli import QIANGJI, ROOT, cli_env, run_cli

# district × period cells holding a current submission: grows when a run publishes a new period
SUBMITTED_CELLS = sa.text(
    "SELECT count(*) FROM mart_submission_status WHERE current_submission_id IS NOT NULL"
)
# what a dashboard asks: a join of a mart with a dimension, grouped, with Chinese labels
DASHBOARD_QUERY = sa.text(
    "SELECT d.district_name, a.status, count(*) AS n"
    " FROM mart_target_attainment AS a JOIN dim_district AS d USING (district_code)"
    " GROUP BY 1, 2 ORDER BY 1, 2"
)


HELD_SESSION = """
import sys
import sqlalchemy as sa
engine = sa.create_engine(sys.argv[1], connect_args={"read_only": True})
with engine.connect() as session:
    query = sa.text(sys.argv[2])
    print(session.execute(query).scalar_one(), flush=True)
    for _ in sys.stdin:
        print(session.execute(query).scalar_one(), flush=True)
"""


def _engine(published: Path) -> sa.Engine:
    # NullPool: every query opens the file anew, as a BI server's fresh connection would
    return sa.create_engine(
        f"duckdb:///{published}", connect_args={"read_only": True}, poolclass=sa.pool.NullPool
    )


@pytest.mark.slow
def test_a_sqlalchemy_reader_is_undisturbed_while_a_run_writes_and_publishes(generated: Path, tmp_path: Path):
    home, landing = tmp_path / "home", tmp_path / "landing"
    landing.mkdir()
    for path in sorted(generated.glob("*_2006H1.xlsx"))[:3]:
        shutil.copyfile(path, landing / path.name)
    run_cli("run", "--home", str(home), "--landing", str(landing))
    published = home / "published" / "marts.duckdb"

    engine = _engine(published)
    # a BI session opened before the next run and kept open through it, in its own process (in one
    # process DuckDB shares one open database between connections to the same path, so a held
    # connection would keep fresh connections of that process on the old file too)
    held = subprocess.Popen(
        [sys.executable, "-c", HELD_SESSION, f"duckdb:///{published}", str(SUBMITTED_CELLS)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def ask_held() -> int:
        held.stdin.write("\n")
        held.stdin.flush()
        return int(held.stdout.readline())

    before = int(held.stdout.readline())
    with engine.connect() as fresh:
        assert fresh.execute(SUBMITTED_CELLS).scalar_one() == before > 0

    for path in sorted(generated.glob("*_2006H2.xlsx"))[:3]:  # a new period: more attainment rows
        shutil.copyfile(path, landing / path.name)
    env = cli_env()
    warehouse = home / "warehouse.duckdb"
    untouched = warehouse.stat().st_mtime_ns
    run = subprocess.Popen(
        [QIANGJI, "run", "--home", str(home), "--landing", str(landing)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.append(run.stdout.read()), daemon=True)
    reader.start()

    seen_fresh: list[int] = []
    seen_held: list[int] = []
    errors: list[BaseException] = []
    warehouse_written = False
    while run.poll() is None:
        try:
            with engine.connect() as fresh:
                seen_fresh.append(fresh.execute(SUBMITTED_CELLS).scalar_one())
                assert fresh.execute(DASHBOARD_QUERY).fetchall()
            seen_held.append(ask_held())
        except Exception as error:  # any error a BI user would see fails the test
            errors.append(error)
        warehouse_written = warehouse_written or warehouse.with_suffix(".duckdb.wal").exists()
        warehouse_written = warehouse_written or warehouse.stat().st_mtime_ns != untouched
        time.sleep(0.1)
    reader.join(timeout=30)
    assert run.returncode == 0, "".join(output)[-4000:]

    with engine.connect() as fresh:
        after = fresh.execute(SUBMITTED_CELLS).scalar_one()
    assert after > before, "the run published the new period"
    assert not errors, errors[:3]
    assert len(seen_fresh) >= 20, "the reader queried throughout the run"
    assert warehouse_written, "the reader's queries overlapped writes to the warehouse"
    assert set(seen_fresh) <= {before, after}, (
        "a reader sees the old publication or the new one, nothing between"
    )
    # the session opened before the publish goes on reading the publication it opened
    assert set(seen_held) == {before}
    assert ask_held() == before
    held.stdin.close()
    assert held.wait(timeout=30) == 0
    engine.dispose()
