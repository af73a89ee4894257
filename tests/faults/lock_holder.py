"""Another process holding a SQLite database's write lock, as a backup tool or a person's
`sqlite3` shell would: `python lock_holder.py DB HOLD_S MARKER [--when-attempt-runs | --when-exists GLOB]`.

It first waits, if asked, until an attempt of the run is `running`, or until a file matching
GLOB exists (mid-run, at a chosen step), then takes `BEGIN EXCLUSIVE`, writes the time to
MARKER as `locked <t>`, holds the lock for HOLD_S seconds (forever if negative: until
killed), and appends `released <t>`."""
import glob
import sqlite3
import sys
import time
from pathlib import Path


def wait_for_running_attempt(db: str, limit_s: float = 600.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as reader:
                if reader.execute("SELECT count(*) FROM attempts WHERE status = 'running'").fetchone()[0]:
                    return
        except sqlite3.OperationalError:  # no file or no tables yet
            pass
        time.sleep(0.05)
    raise SystemExit(f"no attempt started within {limit_s:.0f} s")


def wait_for_file(pattern: str, limit_s: float = 600.0) -> None:
    deadline = time.monotonic() + limit_s
    while not glob.glob(pattern):
        if time.monotonic() > deadline:
            raise SystemExit(f"nothing matched {pattern} within {limit_s:.0f} s")
        time.sleep(0.02)


def main() -> None:
    db, hold_s, marker = sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])
    if "--when-attempt-runs" in sys.argv:
        wait_for_running_attempt(db)
    if "--when-exists" in sys.argv:
        wait_for_file(sys.argv[sys.argv.index("--when-exists") + 1])
    holder = sqlite3.connect(db, isolation_level=None, timeout=60)
    holder.execute("BEGIN EXCLUSIVE")
    marker.write_text(f"locked {time.time()}\n")
    if hold_s < 0:
        while True:
            time.sleep(3600)
    time.sleep(hold_s)
    holder.execute("ROLLBACK")
    with marker.open("a") as out:
        out.write(f"released {time.time()}\n")


if __name__ == "__main__":
    main()
