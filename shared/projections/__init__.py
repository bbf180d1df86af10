"""Projections, and which of them each service's projector maintains.

A service registers its own with :func:`register` (in ``services/<name>/projection.py``);
``ledger rebuild SERVICE`` imports that module if it exists, so the operator's tool sees what
the service sees. Every service starts with the case summary.
"""

from __future__ import annotations

import importlib

from shared.projection import Projection
from shared.projections.case_summary import CaseSummary

SERVICES = ("intake", "dispatch", "oversight", "publication")

_REGISTRY: dict[str, dict[str, Projection]] = {s: {} for s in SERVICES}


def register(service: str, projection: Projection) -> None:
    """Add (or replace, by name) a projection of ``service``."""
    _REGISTRY.setdefault(service, {})[projection.name] = projection


def projections_for(service: str) -> list[Projection]:
    """The service's projections: the defaults plus whatever its projection module registers."""
    if service not in _REGISTRY:
        raise KeyError(f"unknown service {service!r}")
    try:
        importlib.import_module(f"services.{service}.projection")
    except ModuleNotFoundError as exc:
        if exc.name not in (f"services.{service}.projection", "services", f"services.{service}"):
            raise  # the module exists but something it imports does not: say so
    return list(_REGISTRY[service].values())


for _service in SERVICES:
    register(_service, CaseSummary())
