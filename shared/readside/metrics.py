"""A projector's position and lag on ``/metrics``, and a ``/readyz`` check on its lag.

Both read the projector at scrape or check time (no background updates), through a callable,
since a :class:`~shared.readside.read_model.ProjectorRunner` replaces its projector after a
rebuild's switch or an error (``shared/web/service_read_model.py`` wires both for a service).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.readiness import CheckFunction, CheckResult
from shared.readside.projector import Projector

Source = Callable[[], Projector | None]


class ProjectorCollector(Collector):
    def __init__(self, source: Source, service: str) -> None:
        self.source = source
        self.service = service

    def collect(self) -> Iterator[GaugeMetricFamily]:
        p = self.source()
        if p is None:
            return
        position = GaugeMetricFamily(
            "ledger_projector_position",
            "Next log offset the projector will read, per partition",
            labels=["service", "partition"],
        )
        head = GaugeMetricFamily(
            "ledger_projector_log_head",
            "Next log offset of the partition when the projector last looked",
            labels=["service", "partition"],
        )
        for part in sorted(p.position):
            position.add_metric([self.service, str(part)], p.position[part])
            head.add_metric([self.service, str(part)], p.head.get(part, 0))
        lag = GaugeMetricFamily(
            "ledger_projector_lag_events",
            "Records between the projector's position and the log head, over all partitions",
            labels=["service"],
        )
        lag.add_metric([self.service], p.lag)
        parked = GaugeMetricFamily(
            "ledger_projector_parked_streams",
            "Streams parked behind a dead letter",
            labels=["service"],
        )
        parked.add_metric([self.service], len(p.parked))
        yield from (position, head, lag, parked)


def register_projector_metrics(registry: CollectorRegistry, source: Source, service: str) -> None:
    registry.register(ProjectorCollector(source, service))


def lag_check(source: Source, max_lag: int) -> CheckFunction:
    """Not ready while the projector has not started or is more than ``max_lag`` records behind
    (the service would answer from a stale read model)."""

    async def projector_lag() -> CheckResult:
        p = source()
        if p is None:
            return CheckResult(False, "projector not running")
        if p.lag > max_lag:
            return CheckResult(False, f"{p.lag} records behind the log (bound {max_lag})")
        return CheckResult(True, f"{p.lag} records behind the log")

    return projector_lag
