"""Oversight's read model: the projections its projector maintains."""

from __future__ import annotations

from shared.projection import Projection
from shared.projections.case_summary import CaseSummary

PROJECTIONS: tuple[Projection, ...] = (CaseSummary(),)
