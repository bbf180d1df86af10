"""The dashboard's counts kept per projector position: reused until the position moves."""

from __future__ import annotations

from services.oversight.dashboard_counts import MAX_ENTRIES, CountsAtPosition, Position

AT_3: Position = (1, ((0, 3), (1, 0)))
AT_4: Position = (1, ((0, 4), (1, 0)))
OTHER_PROJECTOR: Position = (2, ((0, 3), (1, 0)))


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        return self.calls


async def test_a_count_is_made_once_per_position_and_key() -> None:
    kept, count = CountsAtPosition(), Counter()
    assert await kept.get(AT_3, "tabs", count) == 1
    assert await kept.get(AT_3, "tabs", count) == 1
    assert await kept.get(AT_3, "states", count) == 2
    assert await kept.get(AT_4, "tabs", count) == 3  # the projector moved: counted afresh
    assert await kept.get(AT_4, "tabs", count) == 3
    assert await kept.get(OTHER_PROJECTOR, "tabs", count) == 4  # a new projector (a rebuild)


async def test_without_a_position_every_page_counts() -> None:
    kept, count = CountsAtPosition(), Counter()
    assert [await kept.get(None, "tabs", count) for _ in range(3)] == [1, 2, 3]


async def test_a_count_made_while_the_projector_moved_is_not_kept_for_the_new_position() -> None:
    kept, count = CountsAtPosition(), Counter()

    async def moving() -> int:
        await kept.get(AT_4, "other", count)  # another page saw the newer position meanwhile
        return 100

    assert await kept.get(AT_3, "tabs", moving) == 100
    assert await kept.get(AT_4, "tabs", count) == 2


async def test_the_kept_counts_stay_bounded() -> None:
    kept, count = CountsAtPosition(), Counter()
    for n in range(MAX_ENTRIES + 1):
        await kept.get(AT_3, n, count)
    assert len(kept.values) <= MAX_ENTRIES
