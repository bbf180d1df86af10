"""Joint (parallel) handling with the real timer: a lead unit and a co-unit, each on its own
clock, on a real SQLite log with oversight's scheduler and dispatch's reactions running in
their apps. The co-unit's deadline elapses (the scheduler writes ``deadline.elapsed``) and
dispatch records it deemed done (超时默认) — counted as overdue on the dispatch board and its
case page, never as completed; the lead's own deadline elapses later and it is escalated, never
deemed done, and finishes (claims resolution) late. The timer redelivered — its record appended
again, and dispatch restarted to read the whole log afresh — gives no second effect."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from services.dispatch.app import create as create_dispatch
from services.oversight.app import create as create_oversight
from shared.ledger.bootstrap import init_ledger
from shared.ledger.signer import Draft
from shared.log.factory import open_log
from shared.rules.verdict import Reason
from shared.web.demo_operators import demo_staff_id
from shared.web.roles import Role
from tests.samples import CO_UNIT, DUE, HANDLER, UNIT, new_case
from tests.timer_logs import (
    ASSIGN,
    DEEMED_DONE,
    ELAPSED,
    ESCALATED,
    Histories,
    assignment,
    in_seconds,
    judged,
    of_type,
)
from tests.web_fixtures import client, fast_settings, sign_in_page

HTML = {"accept": "text/html"}


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.1)


async def test_a_co_unit_deemed_done_counts_overdue_while_the_lead_finishes(
    tmp_path: Path,
) -> None:
    settings = fast_settings(tmp_path / "var", log_partitions=3, projector_poll_seconds=0.1)
    log = await open_log(settings)
    try:
        await init_ledger(log, settings)
        case, lead_due = new_case(), in_seconds(6.0)
        h = await Histories(log, settings).start()
        # the co-unit's due time is long past; the lead's comes a few seconds on
        joint = assignment(lead_due, [(CO_UNIT, DUE)])
        await h.write(case, ASSIGN, {"ledger.dispatch.assigned.v1": joint})

        async def of_case(event_type: str) -> list[dict]:  # type: ignore[type-arg]
            accepted, _ = of_type(await judged(log, settings), event_type)
            return [e for r, e in accepted if r.stream == case]

        oversight, dispatch = create_oversight(settings), create_dispatch(settings)
        async with (
            client(dispatch) as officer,
            oversight.router.lifespan_context(oversight),
            dispatch.router.lifespan_context(dispatch),
        ):

            async def co_deemed_done() -> bool:
                return bool(await of_case(DEEMED_DONE))

            await eventually(co_deemed_done)
            [deemed] = await of_case(DEEMED_DONE)
            assert deemed["data"]["unit"] == CO_UNIT and deemed["data"]["due_at"] == DUE
            [co_elapsed] = [e for e in await of_case(ELAPSED) if e["data"]["unit"] == CO_UNIT]
            assert deemed["data"]["cause"] == co_elapsed["id"]  # the scheduler's own event
            assert co_elapsed["source"].endswith("/oversight") and deemed["source"].endswith(
                "/dispatch"
            )

            # The dispatch board counts the co-unit overdue; its part is 超时默认, not done.
            await sign_in_page(officer, dispatch, demo_staff_id(Role.DISPATCH_OFFICER))

            async def board_shows() -> bool:
                page = (await officer.get(f"/board/cases/{case}", headers=HTML)).text
                return "超时默认（计为超时，不计为解决）" in page

            await eventually(board_shows)
            board = (await officer.get("/board", headers=HTML)).text
            co_row = f'<tr class="load-row"><td>{CO_UNIT}</td><td>0</td><td>0</td>'
            assert co_row + '<td class="state-bad">1</td>' in board  # holds none, overdue once
            assert f'<tr class="load-row"><td>{UNIT}</td><td>1</td><td>1</td>' in board

            # The lead's own deadline elapses: escalated, never deemed done.
            async def lead_elapsed() -> bool:
                return len(await of_case(ELAPSED)) == 2 and bool(await of_case(ESCALATED))

            await eventually(lead_elapsed)
            await asyncio.sleep(1.5)  # time for a wrong deemed-done of the lead to show
            assert [e["data"]["unit"] for e in await of_case(DEEMED_DONE)] == [CO_UNIT]
            lead_row = f'<tr class="load-row"><td>{UNIT}</td><td>1</td><td>1</td>'

            async def lead_counted_overdue() -> bool:
                board = (await officer.get("/board", headers=HTML)).text
                return lead_row + '<td class="state-bad">1</td>' in board  # still holding it

            await eventually(lead_counted_overdue)

            # The lead finishes, late; the case is not blocked by the co-unit.
            writer = await oversight.state.ledger.writer.writer()
            claim = Draft(
                "ledger.handling.resolution_claimed.v1",
                {"unit": UNIT, "summary": "已整改"},
                HANDLER,
            )
            result = await writer.submit(case, lambda st: [claim])
            assert result.accepted, result.refused
            state = (await writer.live.tracked(case, writer.snapshots)).state.domain
            assert state.status == "claimed"
            co = state.clock(CO_UNIT)
            assert co.deemed_done and co.overdue and not co.completed  # overdue, never resolved
            assert state.clock(UNIT).overdue and not state.clock(UNIT).deemed_done

            # The timer redelivered: its record appended again is a replay ...
            records = await judged(log, settings)
            [(rec, _)] = [
                (r, e)
                for r, e, v in records
                if r.stream == case and e["type"] == ELAPSED and e["data"]["unit"] == CO_UNIT
            ]
            await log.append([(case, rec.record)])
            again = await judged(log, settings)
            assert again[-1][2].reason == Reason.replayed_id
            await asyncio.sleep(1.5)

        # ... and dispatch, restarted, reads the whole log afresh and writes nothing more.
        restarted = create_dispatch(settings)
        before = len(await judged(log, settings))
        async with restarted.router.lifespan_context(restarted):
            await asyncio.sleep(3.0)
        after = await judged(log, settings)
        assert len(after) == before
        accepted, refused = of_type(after, DEEMED_DONE)
        assert len([e for r, e in accepted if r.stream == case]) == 1 and refused == 0
    finally:
        await log.close()
