"""``kvsigner worker``: run a Celery worker (threads pool) or the beat scheduler."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import tempfile

from ops.processes import lower_session
from worker.queues import QUEUES
from worker.settings import Settings, SettingsError

_log = logging.getLogger("kvsigner.worker")


def _yield_cpu(nice: int) -> None:
    """Add ``nice`` to this process's niceness before any thread of the pool starts.

    On Linux niceness belongs to a thread and a new thread takes its creator's, so every
    thread of the worker runs at it. Niceness only weighs against processes of the same
    session, though: Linux's scheduler (autogroup) first shares the CPU equally between
    sessions. A process that leads its own session (as ``kvsigner dev`` starts every role)
    lowers its session's weight too; one that shares its session (a shell's job) leaves the
    session alone, since that would lower everything else in it."""
    if nice <= 0:
        return
    now = os.nice(nice)
    session = os.getsid(0) == os.getpid() and lower_session(nice)
    _log.info("running at niceness %d%s (KVSIGNER_WORKER_NICE)", now,
              ", its session too" if session else "")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kvsigner worker", description=__doc__)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="tasks run at once (default KVSIGNER_WORKER_CONCURRENCY)")
    parser.add_argument("--queues", default=",".join(QUEUES),
                        help="comma-separated queues to consume (default: all)")
    parser.add_argument("--name", default=None, help="worker name (default: kvsigner@host)")
    parser.add_argument("--loglevel", default=None, help="default KVSIGNER_LOG_LEVEL")
    parser.add_argument("--beat", action="store_true",
                        help="run the periodic scheduler instead of a worker (run exactly one)")
    parser.add_argument("--schedule-file", default=None,
                        help="where beat keeps its schedule state (default: a temp file)")
    args = parser.parse_args(argv)
    try:
        Settings.from_env()  # the Celery app reads them as it is imported: first say what is wrong
    except SettingsError as exc:
        print(f"error: invalid_settings: {exc}", file=sys.stderr)
        return 1

    import worker.tasks  # noqa: F401  (registers the tasks and the heartbeat)
    from worker.celery_app import app
    from worker.logs import configure, leave_celery_logging_alone
    from worker.tasks import services

    settings = services().settings
    loglevel = (args.loglevel or settings.log_level).upper()
    configure(settings.replace(log_level=loglevel))
    leave_celery_logging_alone()
    _yield_cpu(settings.worker_nice)
    # Celery's start-up banner is not a log record; JSON logs stay one object per line.
    quiet = settings.log_format == "json"
    if args.beat:
        schedule = args.schedule_file or os.path.join(tempfile.gettempdir(),
                                                      f"kvsigner-beat-{os.getpid()}")
        app.Beat(loglevel=loglevel, schedule=schedule, quiet=quiet).run()
        return 0
    concurrency = args.concurrency or settings.worker_concurrency
    name = args.name or f"kvsigner-{socket.gethostname()}-%p@%h"
    app.worker_main([
        *(["--quiet"] if quiet else []), "worker", "--pool", "threads",
        "--concurrency", str(concurrency),
        "--queues", args.queues, "--hostname", name, "--loglevel", loglevel,
        "--without-gossip", "--without-mingle",
    ])
    return 0
