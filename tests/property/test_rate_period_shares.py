"""For randomised case histories, a period's totals summed from the cases' shares
(``rate_periods``) equal the figures read from the case documents, in every period."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from services.oversight.rates_projection import RATE_PERIODS, figures_of, totals_of
from shared.reports.periods import month_of, period, quarter_of
from shared.reports.rates import Fact
from tests.property.test_rates_agree import DAY, START, histories
from tests.unit.test_rates_projection import project


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_the_shares_add_up_to_the_figures_in_every_period(facts: list[Fact]) -> None:
    docs = project(facts).values()
    shares = list(project(facts, RATE_PERIODS).values())
    last = max(f.log_time for f in facts) + 40 * DAY
    periods = {g(t) for t in range(START, last, 10 * DAY) for g in (month_of, quarter_of)}
    for period_id in sorted(periods):
        p = period(period_id)
        mine = [s for s in shares if s["period"] == period_id]
        assert totals_of(mine) == figures_of(docs, p.start, p.end), period_id
