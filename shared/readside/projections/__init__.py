"""Projections the shared library offers (a service lists the ones its projector maintains in
its declaration: ``services/<name>/projection.py``), and the lookup of a service's list for
the operator's tools (``ledger project``, ``ledger rebuild``), which see what the service sees.
"""

from __future__ import annotations

from shared.readside.projection import Projection


def projections_for(service: str) -> list[Projection]:
    """The projections the declared service ``service`` maintains."""
    from shared.service import declaration

    return list(declaration(service).projections)
