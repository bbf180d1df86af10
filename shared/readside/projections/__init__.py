"""Projections the shared library offers (a service lists the ones its projector maintains in
its declaration: ``services/<name>/projection.py``), and the lookup of a service's list for
the operator's tools (``ledger project``, ``ledger rebuild``), which see what the service sees.
"""

from __future__ import annotations

from shared.readside.projection import Projection


def projections_for(service: str) -> list[Projection]:
    """The projections the declared service ``service`` maintains (or, given a configured
    deployment's name, its service's)."""
    from shared.ledger.deployments import configured
    from shared.service import declaration, declared

    if service not in declared():
        service = next((d.service for d in configured() if d.name == service), service)
    return list(declaration(service).projections)
