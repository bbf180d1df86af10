"""Complaints accepted durably through HTTP by one intake worker (group ``intake``).

One uvicorn process serves intake as ``make run`` does (``command_server``), and beside it, on
the same server, a bare FastAPI endpoint that only validates the same ``ReceiveComplaint``
body. Under ``workers`` concurrent connections (httpx) the client files the texts of the
labelled set's tune half that hold personal data, so redaction really runs: each complaint
is redacted, signed and appended (acknowledged durable) before its 201. Rounds alternate
between the two endpoints in the same run; the row is the rate ratio (target ≥ 0.5) with p99.

Afterwards the log is read back: the row counts the complaints whose text entered it with
placeholders, and the labelled values (as written, without spaces, digits only) found in the
log's records (never printed), leaving out a value that is an ordinary word outside every
label in some filed text (李宁, a name in one, the brand in others). ``python -m
tests.bench.intake`` runs this group alone.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
from typing import Any

from services.intake.commands import ReceiveComplaint
from shared.log.factory import open_log
from shared.log.port import read_all
from shared.settings import LedgerSettings
from tests.bench.commands import _pct, _round, cpu_seconds, serving
from tests.bench.common import Row, Workspace
from tests.data.redaction.labelled_set import Example, load

PLACEHOLDER = re.compile(r"【[^】]{1,6}】")
RECEIVED = "ledger.complaint.received.v1"


def _body(ex: Example) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "web_form",
        "unit": "unit:housing-bureau",
        "category": "窗口纪律",
        "text": ex.text,
    }
    # The complainant's name as the form gives it, where the command takes it (the vault's).
    if ex.known_names and "complainant_name" in ReceiveComplaint.model_fields:
        body["complainant_name"] = ex.known_names[0]
    return body


def _bodies() -> list[tuple[Example, dict[str, Any]]]:
    return [(ex, _body(ex)) for ex in load("tune") if ex.spans]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _forms(value: str) -> set[str]:
    """A labelled value as written, without whitespace, and its digits alone (numbers)."""
    forms = {value, re.sub(r"\s", "", value)}
    digits = re.sub(r"\D", "", value.translate({cp: cp - 0xFEE0 for cp in range(0xFF10, 0xFF1A)}))
    if len(digits) >= 7:
        forms.add(digits)
    return forms


def _outside_labels(ex: Example) -> str:
    """The text with its labelled spans blanked out."""
    chars = list(ex.text)
    for s in ex.spans:
        chars[s.start : s.end] = ["\x00"] * (s.end - s.start)
    return "".join(chars)


async def _log_check(settings: LedgerSettings, filed: list[Example]) -> dict[str, int]:
    texts: list[str] = []
    everything: list[str] = []
    log = await open_log(settings)
    try:
        async for rec in read_all(log):
            doc = json.loads(rec.record)
            strings = _strings(doc)
            everything += strings
            if doc.get("type") == RECEIVED:
                texts.append(str(doc.get("data", {}).get("text", "")))
    finally:
        await log.close()
    joined = "\n".join(everything)
    # (Not a value that is an ordinary word in some filed text, outside every label there:
    # 李宁 a name in one text, the brand in others, which stays.)
    unlabelled = "\n".join(_outside_labels(ex) for ex in filed)
    values = {f for ex in filed for s in ex.spans for f in _forms(s.value)}
    values = {v for v in values if v not in unlabelled}
    return {
        "received": len(texts),
        "received_with_placeholders": sum(1 for t in texts if PLACEHOLDER.search(t)),
        "labelled_values_in_log": sum(1 for v in values if v in joined),
        "labelled_values": len(values),
    }


async def run(ws: Workspace, workers: int = 32, per: int = 15, repeat: int = 3) -> dict[str, Any]:
    bodies = _bodies()
    filed: list[Example] = []

    def ours(n: int) -> dict[str, Any]:
        ex, body = bodies[n % len(bodies)]
        filed.append(ex)
        return body

    def bare(n: int) -> dict[str, Any]:
        return bodies[n % len(bodies)][1]

    async with serving(ws, "intake-http", workers) as (c, headers, var, pid):
        await _round(c, "/complaints", headers, workers, 2, "warm", ours)
        await _round(c, "/bench/bare", headers, workers, 2, "warm", bare)
        ours_rates, bare_rates, ours_lat, bare_lat = [], [], [], []
        cpu = {"ours": 0.0, "bare": 0.0}
        for k in range(repeat):
            before = cpu_seconds(pid)
            rate, lat = await _round(c, "/bench/bare", headers, workers, per, f"b{k}", bare)
            cpu["bare"] += cpu_seconds(pid) - before
            bare_rates.append(rate)
            bare_lat += lat
            before = cpu_seconds(pid)
            rate, lat = await _round(c, "/complaints", headers, workers, per, f"o{k}", ours)
            cpu["ours"] += cpu_seconds(pid) - before
            ours_rates.append(rate)
            ours_lat += lat
    timed = workers * per * repeat
    check = await _log_check(LedgerSettings(var_dir=var), filed)
    return {
        "ours": statistics.median(ours_rates),
        "bare": statistics.median(bare_rates),
        "ours_p50_ms": _pct(ours_lat, 0.5) * 1000,
        "ours_p99_ms": _pct(ours_lat, 0.99) * 1000,
        "bare_p50_ms": _pct(bare_lat, 0.5) * 1000,
        "bare_p99_ms": _pct(bare_lat, 0.99) * 1000,
        # The server's own CPU per request: what the wall rates mean on a loaded machine.
        "ours_per_server_cpu_s": timed / max(cpu["ours"], 1e-9),
        "bare_per_server_cpu_s": timed / max(cpu["bare"], 1e-9),
        "complaints": len(filed),
        "texts": len(bodies),
        "workers": workers,
        **check,
    }


async def rows(ws: Workspace, workers: int, repeat: int) -> list[Row]:
    r = await run(ws, workers=workers, repeat=repeat)
    redacted = r["received_with_placeholders"] == r["received"] == r["complaints"]
    return [
        Row(
            "intake.http",
            f"complaints accepted durably (redacted, signed, appended), 1 intake worker, "
            f"{workers} connections (bare FastAPI endpoint, same body)",
            r["ours"],
            r["bare"],
            "complaints/s",
            0.5,
            extra_check=redacted,
            target_note=(
                f"p99 {r['ours_p99_ms']:,.0f} ms (bare {r['bare_p99_ms']:,.0f} ms); per "
                f"server CPU-second {r['ours_per_server_cpu_s']:,.0f} "
                f"(bare {r['bare_per_server_cpu_s']:,.0f}); "
                f"{r['received_with_placeholders']} of {r['complaints']} texts entered the log "
                f"redacted, {r['labelled_values_in_log']} of {r['labelled_values']} labelled "
                "values found in it"
            ),
            notes=r,
        )
    ]


if __name__ == "__main__":
    from rich.console import Console

    from tests.bench.run import render

    async def _main() -> list[Row]:
        with Workspace() as ws:
            return await rows(ws, 32, 3)

    Console(width=180).print(render(asyncio.run(_main()), "Intake over HTTP"))
