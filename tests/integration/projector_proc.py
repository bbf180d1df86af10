"""A projector process for the crash tests: project the log (settings from the environment) into
one store until caught up with the head it saw at start, then write its stats as JSON.

    python -m tests.integration.projector_proc --out F --store /path/file.sqlite3
    python -m tests.integration.projector_proc --out F --store mongodb://host:port/ --database N
    python -m tests.integration.projector_proc --zygote

``LEDGER_CRASH_AT=<point>:<n>`` makes it kill itself there (see shared/crash_points.py).

With ``--zygote`` it imports everything once and then forks one projector per request: each
line on stdin is ``{"args": [...], "env": {...}}``; it answers ``{"pid": N}`` when the child
runs and ``{"pid": N, "status": S}`` when it ends (S < 0: killed by signal -S). A forked child
is a real process, killed for real; it only skips Python's start-up and imports (~1 s each on a
busy 2-core runner, times a hundred rounds).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import traceback

import orjson

# Imported here so a forked child never pays for them.
import shared.log.kafka
import shared.log.sqlite
import shared.store.mongo
from shared.ledger import keystore
from shared.log.factory import open_log
from shared.readside.projections.case_summary import CaseSummary
from shared.readside.projector import Projector
from shared.settings import LedgerSettings
from shared.store import open_store

import shared.store.sqlite  # noqa: F401  isort: skip


def parse(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", default="")
    ap.add_argument("--database", default=None)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--write-chunk", type=int, default=10)
    ap.add_argument("--out", default="")
    ap.add_argument("--zygote", action="store_true")
    return ap.parse_args(argv)


async def project(args: argparse.Namespace) -> None:
    settings = LedgerSettings()
    log = await open_log(settings)
    store = await open_store(args.store, database=args.database)
    try:
        p = Projector(
            log,
            store,
            [CaseSummary()],
            keystore.genesis_public(settings),
            batch=args.batch,
            write_chunk=args.write_chunk,
        )
        await p.start()
        await p.catch_up()
        stats = orjson.dumps(dataclasses.asdict(p.stats))
        if args.out:
            with open(args.out, "ab") as f:
                f.write(stats + b"\n")
    finally:
        await store.close()
        await log.close()


def zygote() -> None:
    for line in sys.stdin:
        request = orjson.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.environ.update(request["env"])
                asyncio.run(project(parse(request["args"])))
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                sys.stderr.flush()
                os._exit(code)
        sys.stdout.write(orjson.dumps({"pid": pid}).decode() + "\n")
        sys.stdout.flush()
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        sys.stdout.write(orjson.dumps({"pid": pid, "status": code}).decode() + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    ns = parse(sys.argv[1:])
    if ns.zygote:
        zygote()
    else:
        asyncio.run(project(ns))
