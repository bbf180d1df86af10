"""The persisted duplicate index: band lookups through hot buckets, and a file of an older
schema emptied and rebuilt."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from services.intake.duplicate_index import SCHEMA_VERSION, DuplicateIndex
from services.intake.duplicates import Directory, Profile, Thresholds

DAY = 86_400_000_000
T = Thresholds()
HOT = 7  # a band key every indexed complaint shares (a stock phrase)


def make(i: int, at: int, bands: tuple[int, ...], unit: str = "unit:other") -> Profile:
    return Profile(
        case=f"case-{i:04d}",
        complaint_no=f"TS{i:04d}",
        received_by="city-office",
        unit=unit,
        category="基础设施",
        complainant=None,
        at=at,
        text=f"路灯坏了{i}",
        keywords={"灯": 1000, "路": 400},
        bands=bands,
    )


def test_band_candidates_are_the_first_earlier_ones_of_a_hot_bucket(tmp_path: Path) -> None:
    rng = random.Random(18)
    limit = 40  # limit // 4 = 10 band candidates
    olds = [make(i, rng.randrange(0, 400) * DAY, (HOT, 100 + rng.randrange(6))) for i in range(300)]
    index = DuplicateIndex(tmp_path / "index.sqlite3")
    index.bulk_load(olds[:150])
    for p in olds[150:]:  # the worker's path, one by one
        index.add(p)
    index.commit({})
    try:
        for trial in range(20):
            new_at = rng.randrange(0, 400) * DAY
            bands = (HOT, 100 + trial % 6)
            # the new complaint itself already indexed (a restart re-reading it), or not
            new = olds[trial * 7] if trial % 2 else make(1000 + trial, new_at, bands, "unit:new")
            found = index.candidates(new, Directory(), T, limit=limit)
            expected = [
                p.case
                for p in olds
                if p.at <= new.at and p.case != new.case and set(p.bands) & set(new.bands)
            ][: limit // 4]
            by_band = [p.case for p in found if p.unit == "unit:other"]
            if new.unit == "unit:other":  # the window part adds same-unit ones: check inclusion
                assert set(expected) <= set(by_band)
            else:
                assert by_band == expected
    finally:
        index.close()


def test_a_file_of_an_older_schema_is_emptied_and_kept_after(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE complaints (doc INTEGER PRIMARY KEY, case_id TEXT);"
        "CREATE TABLE bands (key INTEGER, doc INTEGER, PRIMARY KEY (key, doc)) WITHOUT ROWID;"
        "CREATE TABLE positions (partition INTEGER PRIMARY KEY, next_offset INTEGER);"
        "INSERT INTO complaints VALUES (1, 'case-0001'); INSERT INTO bands VALUES (7, 1);"
        "INSERT INTO positions VALUES (0, 42);"
    )
    old.commit()
    old.close()
    index = DuplicateIndex(path)
    try:  # rebuilt from the log's start, as for a deleted file
        assert index.count() == 0 and index.positions() == {}
        assert index.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        index.add(make(1, DAY, (HOT,)))
        index.commit({0: 5})
    finally:
        index.close()
    again = DuplicateIndex(path)
    try:
        assert again.count() == 1 and again.positions() == {0: 5}
        assert [p.case for p in again.candidates(make(2, 2 * DAY, (HOT,)), Directory(), T)] == [
            "case-0001"
        ]
    finally:
        again.close()


def test_window_candidates_are_the_nearest_earlier_of_related_units(tmp_path: Path) -> None:
    directory = Directory(parents={"unit:street": "unit:district"})
    rng = random.Random(81)
    new = make(999, 100 * DAY, (1,), "unit:district")
    olds = [
        make(i, new.at - rng.randrange(-5 * DAY, 40 * DAY), (2,), unit)
        for i, unit in enumerate(["unit:street", "unit:district", "unit:other"] * 30)
    ]
    index = DuplicateIndex(tmp_path / "index.sqlite3")
    for p in [*olds, new]:
        index.add(p)
    index.commit({})
    try:
        found = index.candidates(new, directory, T, limit=16)
    finally:
        index.close()
    near = sorted(
        (p for p in olds if p.unit != "unit:other" and 0 <= new.at - p.at <= T.window_days * DAY),
        key=lambda p: -p.at,
    )
    assert len(near) > 16
    assert [p.case for p in found] == [p.case for p in near[:16]]
