"""The command pipeline per core: ``Signer.sign`` (validate → canonical → chain → sign).

Baseline: the bare Ed25519 signature rate of ``cryptography`` over the same signed bytes.
"""

from __future__ import annotations

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.events.codec import signed_part
from shared.ledger.signer import Draft, Signed
from tests.bench.common import Stopwatch, median
from tests.bench.corpus import Corpus


def run(c: Corpus, count: int, repeat: int) -> dict:
    jobs: list[tuple[str, str, Draft, str | None]] = []
    for stream, steps in c.cases.items():
        prev = None
        for s in steps:
            jobs.append((s.signer, stream, Draft(s.type, s.data, s.actor), prev))
            prev = "0" * 64
            if len(jobs) == count:
                break
        if len(jobs) == count:
            break
    signed: list[Signed] = []
    ours, bare = [], []
    for _ in range(repeat):
        with Stopwatch() as sw:
            signed = [
                c.signers[name].sign(stream, d, prev=prev, regseq=c.regseq, reghash=c.reghash)
                for name, stream, d, prev in jobs
            ]
        ours.append(sw.timing.per_core(len(jobs)))
        # The same bytes, signed bare with the same keys.
        keys = {
            name: Ed25519PrivateKey.from_private_bytes(signer.key.raw())
            for name, signer in c.signers.items()
        }
        messages = [
            (keys[name], signed_part(s.record, _sig(s.record)))
            for (name, *_), s in zip(jobs, signed, strict=True)
        ]
        with Stopwatch() as sw:
            for key, m in messages:
                key.sign(m)
        bare.append(sw.timing.per_core(len(messages)))
    return {"ours": median(ours), "bare": median(bare), "events": len(jobs)}


def _sig(stored: bytes) -> str:
    sig: str = orjson.loads(stored)["sig"]
    return sig
