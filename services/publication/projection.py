"""Publication's read model: the projections its projector maintains."""

from __future__ import annotations

from shared.readside.projection import Projection
from shared.readside.projections.case_summary import CaseSummary

PROJECTIONS: tuple[Projection, ...] = (CaseSummary(),)
