"""Replay for rebuilds trusts the last seal and still reaches exactly the full fold's state."""

from __future__ import annotations

from pathlib import Path

from shared.ledger import keystore
from shared.ledger.bootstrap import init_ledger
from shared.ledger.reader import fold_log
from shared.ledger.rebuild import rebuild_fold
from shared.ledger.seal import record_seal
from shared.ledger.verify import verify_log
from shared.ledger.writer import EventWriter
from shared.log.sqlite import SqliteLog
from shared.rules.verdict import Outcome
from shared.settings import LedgerSettings
from tests.samples import LIFECYCLE, new_case, sign_steps, signers


async def test_sealed_rebuild_equals_the_full_fold(tmp_path: Path) -> None:
    settings = LedgerSettings(var_dir=tmp_path / "var", log_partitions=3)
    log = await SqliteLog.open(settings.sqlite_log_file, 3)
    await init_ledger(log, settings)
    s = signers(settings)
    genesis = keystore.genesis_public(settings)
    reg = (await EventWriter(log, s["intake"], genesis).registry()).registry
    cases = [new_case() for _ in range(30)]
    for c in cases:
        signed = sign_steps(
            s, c, LIFECYCLE, head=None, regseq=reg.version, reghash=reg.hash_at(reg.version)
        )
        # A retry of identical bytes and a stale rival: conflicts the seal must list.
        await log.append([(c, x.record) for x in signed] + [(c, signed[1].record)])
    report = await verify_log(log, genesis, workers=1)
    assert report.ok and len(report.conflicts) == 30
    await record_seal(log, s["auditor"], genesis, report, tmp_path / "seals")
    # Events after the seal are checked in full.
    late = new_case()
    signed = sign_steps(
        s, late, LIFECYCLE[:2], head=None, regseq=reg.version, reghash=reg.hash_at(reg.version)
    )
    await log.append([(late, x.record) for x in signed])
    full = await fold_log(log, genesis)
    fast = await rebuild_fold(log, genesis)
    assert fast.state_digest() == full.state_digest()
    assert fast.counts == full.counts
    assert fast.counts[Outcome.conflict] == 30
    await log.close()
