"""Appending a period's signed figures: version 1 once the period has ended (oversight's
publisher), or a correction — the next version, naming the one it replaces and why. The ids
derive from the period and the version, so a second writer of the same version writes a copy
every reader rejects, never a second version."""

from __future__ import annotations

from shared.events.ids import derived_event_id
from shared.ledger.signer import Draft
from shared.ledger.writer import EventWriter, Submission
from shared.reports.rates import Figures
from shared.reports.signed import FIGURES_PUBLISHED, figures_published, period_stream
from shared.rules.period import PeriodState
from shared.rules.stream import StreamState


def figures_event_id(period_id: str, version: int) -> str:
    return derived_event_id(period_stream(period_id), f"period.figures_published v{version}")


async def publish(
    writer: EventWriter,
    period_id: str,
    figures: Figures,
    actor: str,
    *,
    correction: str | None = None,
) -> Submission:
    """Version 1 (``correction`` None: nothing is written once any version exists), or the
    correction of the version in force (its reason: ``correction``)."""

    def decide(state: StreamState) -> list[Draft]:
        current: PeriodState = state.domain
        if correction is None and current.version > 0:
            return []
        version = current.version + 1
        data = figures_published(
            period_id,
            figures,
            version=version,
            replaces=current.version or None,
            reason=correction or "",
        )
        return [Draft(FIGURES_PUBLISHED, data, actor, id=figures_event_id(period_id, version))]

    return await writer.submit(period_stream(period_id), decide)
