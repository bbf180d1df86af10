"""The screening worker on a real SQLite log with two bodies' intakes (a district's, the city's):
a cross-level flag across the two deployments; the labelled tune half screened end to end;
the index restarted reads only the tail; killed mid-run (SIGKILL) and restarted, no second
link and none missed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from services.intake.duplicate_index import DuplicateIndex
from services.intake.screening import Screening, ScreeningSettings
from shared.ledger.deployments import spec
from tests.conftest import REPO, settings_env
from tests.data.duplicates.labelled_set import load
from tests.screening_support import City, eventually, open_city
from tests.timer_logs import judged, of_type

FAST = ScreeningSettings(poll_seconds=0.05)
SCREENED = "ledger.complaint.screened.v1"
LINKED = "ledger.complaint.linked_as_duplicate.v1"
GATHERED = "ledger.complaint.gathered.v1"
FLAGGED = "ledger.complaint.flagged_cross_level.v1"


@pytest.fixture
async def city(tmp_path: Path) -> AsyncIterator[City]:
    c = await open_city(tmp_path / "var")
    try:
        yield c
    finally:
        await c.log.close()


@asynccontextmanager
async def worker(city: City, name: str) -> AsyncIterator[Screening]:
    s = Screening(city.settings, name, spec(name, city.settings).deployment, FAST)
    stop = asyncio.Event()
    task = asyncio.create_task(s.run(stop))
    try:
        await asyncio.wait_for(s.caught_up.wait(), 60)
        yield s
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def accepted(city: City, event_type: str) -> list[dict]:
    events, _ = of_type(await judged(city.log, city.settings), event_type)
    return [e for _, e in events]


async def all_screened(city: City, n: int) -> bool:
    return len(await accepted(city, SCREENED)) >= n


async def test_a_municipal_body_second_is_flagged_cross_level_and_linked(city: City) -> None:
    tune = {c.id: c for c in load("tune")}
    district_first, city_second = tune["d001"], tune["d003"]  # incident A1: district, then city
    assert city.deployment_for(district_first) == "intake-district"
    assert city.deployment_for(city_second) == "intake-city"
    lower = await city.file(district_first)
    higher = await city.file(city_second)
    async with worker(city, "intake-district"), worker(city, "intake-city"):
        await eventually(lambda: all_screened(city, 2))
        await eventually(lambda: _has(city, GATHERED))
    screened = {e["subject"]: e for e in await accepted(city, SCREENED)}
    assert screened[lower]["data"]["outcome"] == "new"
    assert screened[higher]["data"]["outcome"] == "cross_level"
    assert screened[higher]["data"]["method"] == "automatic"
    [flag] = await accepted(city, FLAGGED)
    assert flag["subject"] == higher
    assert flag["data"]["other_body"] == "huicheng-efficiency"
    assert flag["data"]["from_level"] == "district" and flag["data"]["to_level"] == "municipal"
    assert flag["data"]["figures"]["similarity_permille"] >= 250
    [link] = await accepted(city, LINKED)
    assert link["subject"] == higher and link["data"]["target"] == lower
    assert link["source"] == spec("intake-city", city.settings).deployment
    assert "unit" in link["data"]["figures"]["signals"]
    [gathered] = await accepted(city, GATHERED)
    assert gathered["subject"] == lower and gathered["data"]["source"] == higher


async def _has(city: City, event_type: str) -> bool:
    return bool(await accepted(city, event_type))


async def test_screening_is_outside_the_request_and_the_index_restart_reads_only_the_tail(
    city: City,
) -> None:
    tune = [c for c in load("tune") if city.deployment_for(c) == "intake-city"][:10]
    for c in tune[:6]:
        await city.file(c)
    assert await accepted(city, SCREENED) == []  # filed, no worker: in the log, unscreened
    async with worker(city, "intake-city") as first:
        await eventually(lambda: all_screened(city, 6))
        read_first = first.follower.records if first.follower else 0
    head_before = sum((await city.log.head()).values())
    for c in tune[6:]:
        await city.file(c)
    appended = sum((await city.log.head()).values()) - head_before
    async with worker(city, "intake-city") as second:
        assert second.follower is not None
        read_at_start = second.follower.records
        await eventually(lambda: all_screened(city, 10))
    assert read_at_start == appended  # only the tail, not the first session's records
    assert read_first > appended
    index = DuplicateIndex.at(city.settings.var_dir, "intake-city")
    try:
        assert index.count() == 10 and index.pending() == []
    finally:
        index.close()


async def test_the_tune_half_screened_end_to_end_links_each_complaint_at_most_once(
    city: City,
) -> None:
    items = load("tune")
    cases = {c.id: await city.file(c) for c in items}
    async with worker(city, "intake-district"), worker(city, "intake-city"):
        await eventually(lambda: all_screened(city, len(items)), 120)

        async def all_gathered() -> bool:
            return len(await accepted(city, GATHERED)) >= len(await accepted(city, LINKED))

        await eventually(all_gathered)
        await asyncio.sleep(1.0)  # time for a wrong second effect to show
    links = await accepted(city, LINKED)
    gathered = await accepted(city, GATHERED)
    assert len({e["subject"] for e in links}) == len(links)
    assert sorted(e["data"]["source"] for e in gathered) == sorted(e["subject"] for e in links)
    incident = {cases[c.id]: c.incident for c in items}
    true = sum(incident[e["subject"]] == incident[e["data"]["target"]] for e in links)
    assert len(links) >= 20 and true >= 0.6 * len(links)


async def _written(city: City, event_type: str, n: int) -> bool:
    """At least n records of a type in the log (accepted or not: cheap, no verdicts)."""
    from shared.log.port import read_all

    seen = 0
    async for rec in read_all(city.log):
        seen += event_type.encode() in rec.record
    return seen >= n


def _standalone(city: City) -> subprocess.Popen[bytes]:
    env = settings_env(city.settings)
    env.update(
        {
            "LEDGER_DEPLOYMENTS_FILE": str(city.settings.deployments_file),
            "LEDGER_DEPLOYMENT": "intake-city",
            "LEDGER_SCREENING_POLL_SECONDS": "0.05",
            "LEDGER_SCREENING_ROUND_SIZE": "2",
            "LEDGER_SCREENING_ROUND_PAUSE_SECONDS": "0.3",  # 27 rounds: ≥ 8 s, the kill lands
            "LEDGER_SCREENING_BODIES": json.dumps(["efficiency-office"]),
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "services.intake.screening"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
async def test_killed_mid_run_and_restarted_no_second_link_and_none_missed(city: City) -> None:
    items = [c for c in load("tune") if city.deployment_for(c) == "intake-city"]
    for c in items:
        await city.file(c)
    first = _standalone(city)
    try:
        await eventually(lambda: _written(city, SCREENED, 6), 120)
    except AssertionError:
        first.kill()
        raise AssertionError(first.communicate()[1].decode()[-3000:]) from None
    finally:
        os.kill(first.pid, signal.SIGKILL)  # mid-run: rounds of 2 with rests, dozens to go
        first.wait(30)
    partway = len(await accepted(city, SCREENED))
    assert partway < len(items), "the first run finished before the kill"
    second = _standalone(city)
    try:
        await eventually(lambda: all_screened(city, len(items)), 180)

        async def all_gathered() -> bool:
            return len(await accepted(city, GATHERED)) >= len(await accepted(city, LINKED))

        await eventually(all_gathered)
        await asyncio.sleep(1.5)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(60)
    records = await judged(city.log, city.settings)
    screened, _ = of_type(records, SCREENED)
    links, _ = of_type(records, LINKED)
    gathered, _ = of_type(records, GATHERED)
    per_case = Counter(e["subject"] for _, e in screened)
    assert len(per_case) == len(items) and set(per_case.values()) == {1}
    assert len({e["subject"] for _, e in links}) == len(links)  # no second link
    assert Counter(e["data"]["source"] for _, e in gathered) == Counter(
        e["subject"] for _, e in links
    )  # every link gathered, once


async def test_a_clerk_splits_a_wrong_link_and_links_a_missed_one(city: City) -> None:
    from services.intake.commands import LinkDuplicate, SplitLink, link_by_hand, split_link
    from shared.rules.case.state import RECEIVED, CaseState

    tune = {c.id: c for c in load("tune")}
    lower = await city.file(tune["d001"])  # district, day 10
    missed = await city.file(tune["d002"])  # city, day 16: the matcher misses d001 (a new case)
    linked = await city.file(tune["d003"])  # city, day 18: linked automatically
    clerk = "efficiency-office/S001"
    writer = city.writers["intake-city"]
    async with worker(city, "intake-district"), worker(city, "intake-city"):
        await eventually(lambda: all_screened(city, 3))
        await eventually(lambda: _has(city, GATHERED))
        split = await writer.submit(
            linked, lambda st: split_link(st, SplitLink(reason="不是同一事项"), clerk)
        )
        assert split.refused is None

        async def mirrored() -> bool:
            return len(await accepted(city, SPLIT_TYPE)) == 2

        await eventually(mirrored)
        cmd = LinkDuplicate.model_validate({"target": lower, "reason": "同一过户登记超期"})
        link = await writer.submit(missed, lambda st: link_by_hand(st, cmd, clerk))
        assert link.refused is None

        async def settled() -> bool:
            splits = await accepted(city, SPLIT_TYPE)
            gathered = await accepted(city, GATHERED)
            return len(splits) == 2 and len(gathered) == 2

        await eventually(settled)
    [auto] = [e for e in await accepted(city, LINKED) if e["subject"] == linked]
    wrong = auto["data"]["target"]  # the case it was wrongly linked into
    splits = {e["subject"]: e["data"]["other"] for e in await accepted(city, SPLIT_TYPE)}
    assert splits == {linked: wrong, wrong: linked}  # both sides, the target's by the worker
    [manual] = [e for e in await accepted(city, LINKED) if e["subject"] == missed]
    assert manual["data"]["method"] == "manual" and manual["data"].get("figures") is None
    assert {e["data"]["source"] for e in await accepted(city, GATHERED)} == {linked, missed}
    states = await _states(city)
    target, source, other = states[lower], states[linked], states[wrong]
    assert isinstance(target, CaseState) and isinstance(source, CaseState)
    assert isinstance(other, CaseState)
    assert [src for src, _ in target.gathered] == [missed]
    assert source.status == RECEIVED and source.merged_into is None
    assert not any(src == linked for src, _ in other.gathered)


SPLIT_TYPE = "ledger.complaint.link_split.v1"


async def _states(city: City) -> dict[str, object]:
    from shared.ledger import keystore
    from shared.ledger.reader import fold_log

    fold = await fold_log(city.log, keystore.genesis_public(city.settings))
    return {s: st.domain for s, st in fold.streams.items()}


async def test_the_review_page_shows_links_with_their_figures_and_splits_from_a_form(
    city: City,
) -> None:
    from shared.service import declaration
    from shared.web.demo_operators import demo_staff_id
    from shared.web.roles import Role
    from tests.web_fixtures import client, csrf_from, fast_settings, sign_in_page

    tune = {c.id: c for c in load("tune")}
    lower = await city.file(tune["d001"])
    higher = await city.file(tune["d003"])
    async with worker(city, "intake-district"), worker(city, "intake-city"):
        await eventually(lambda: _has(city, GATHERED))
        settings = fast_settings(
            city.settings.var_dir,
            log_partitions=3,
            deployments_file=city.settings.deployments_file,
        )
        app = declaration("intake").create_app(settings, spec("intake-city", settings))
        async with client(app) as c, app.router.lifespan_context(app):
            await sign_in_page(c, app, demo_staff_id(Role.INTAKE_CLERK))
            html = {"accept": "text/html"}
            review = await c.get("/duplicates", headers=html)
            assert review.status_code == 200, review.text
            assert "重复与越级" in review.text and higher in review.text and "‰" in review.text
            assert "越级" in review.text and "上下级单位" not in review.text
            case = await c.get(f"/duplicates/cases/{lower}", headers=html)
            assert case.status_code == 200
            assert higher in case.text and "huicheng-efficiency" in case.text
            assert tune["d001"].pseudonym not in case.text  # never the complainant
            form = {
                "csrf_token": csrf_from(review.text),
                "form_key": "6f9d3c1e-1b2a-4c3d-8e4f-5a6b7c8d9e0f",
                "reason": "不是同一事项",
            }
            split = await c.post(f"/duplicates/{higher}/split", data=form, headers=html)
            assert split.status_code == 303, split.text

            async def mirrored() -> bool:
                return len(await accepted(city, SPLIT_TYPE)) == 2

            await eventually(mirrored)


async def test_filing_over_http_answers_with_no_worker_and_leaves_the_complaint_unscreened(
    city: City,
) -> None:
    from shared.service import declaration
    from shared.web.demo_operators import demo_staff_id
    from shared.web.roles import Role
    from tests.web_fixtures import bearer, client, fast_settings, token_for

    settings = fast_settings(
        city.settings.var_dir, log_partitions=3, deployments_file=city.settings.deployments_file
    )
    app = declaration("intake").create_app(settings, spec("intake-city", settings))
    body = {
        "channel": "web_form",
        "unit": "unit:huicheng-services",
        "category": "办事拖延",
        "text": load("tune")[0].text,
    }
    async with client(app) as c, app.router.lifespan_context(app):
        assert getattr(app.state, "screening", None) is None  # LEDGER_SCREENING_ENABLED unset
        token = await token_for(c, app, demo_staff_id(Role.INTAKE_CLERK))
        r = await c.post("/complaints", json=body, headers=bearer(token, "file-1"))
        assert r.status_code == 201, r.text
    received = await accepted(city, "ledger.complaint.received.v1")
    assert len(received) == 1 and await accepted(city, SCREENED) == []
    async with worker(city, "intake-city"):  # the worker, once running, screens it
        await eventually(lambda: all_screened(city, 1))
