"""A service, declared once, and how the shared library finds the declarations.

Each service declares itself in its own ``services/<name>/app.py`` as a
:class:`ServiceDeclaration` (name, title, deployment, port, routers, projections, pages,
navigation) and registers it under the ``ledger.services`` entry-point group in
``pyproject.toml`` — the one composition root. The shared library never lists the services nor
imports them by name: ``make run``, ``ledger init``, ``ledger project`` and ``ledger rebuild``
find them here (a test proves it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.ledger.deployments import DeploymentSpec
from shared.readside.projection import Projection

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from shared.rules.registry import Registry
    from shared.store.port import DocumentStore
    from shared.web.pages import NavItem
    from shared.web.settings import WebSettings

ENTRY_POINT_GROUP = "ledger.services"

StreamText = Callable[[str, Sequence[tuple[int, dict[str, Any]]], "Registry"], Sequence[str]]
"""A readable account of one stream for ``ledger replay``: (stream, its accepted events as
(log time µs, envelope), the registry) -> lines of text."""

PeriodFigures = Callable[
    ["DocumentStore", int, int], Awaitable[dict[str, dict[str, tuple[int, int]]]]
]
"""A live read model's figures for the period [start, end) (µs): unit -> figure ->
(numerator, denominator); ``ledger report`` compares them with the log's."""


@dataclass(frozen=True)
class ServiceDeclaration:
    name: str  # its entry-point name (and its data folder under var/ when deployed once)
    title: str  # zh-CN, shown in the layout and the API docs
    deployment: DeploymentSpec  # the built-in deployment: who it signs as, for whom, rights
    port: int  # under `make run` (LEDGER_<NAME>_PORT overrides)
    routers: Sequence[APIRouter] = ()
    projections: Sequence[Projection] = ()
    pages: Path | None = None  # its templates directory
    nav: Sequence[NavItem] = field(default_factory=tuple)
    public_nav: Sequence[NavItem] = field(default_factory=tuple)  # its public pages, for all
    # stream kind -> its readable account in `ledger replay` (a conference's minutes)
    replay_text: Mapping[str, StreamText] = field(default_factory=dict)
    period_figures: PeriodFigures | None = None  # its read model's rates, for `ledger report`

    def create_app(
        self, settings: WebSettings | None = None, deployment: DeploymentSpec | None = None
    ) -> FastAPI:
        """The service's app as one deployment: ``deployment``, else the one the settings name
        (``LEDGER_DEPLOYMENT``), else the service's only configured one. The app keeps its data
        under ``var/<deployment name>/`` and its demo operators belong to the deployment's body
        (unless ``LEDGER_DEMO_BODY`` says otherwise)."""
        from shared.ledger.deployments import of_service
        from shared.web.factory import create_app
        from shared.web.settings import WebSettings

        settings = settings or WebSettings()
        if deployment is None:
            deployment = of_service(self.name, settings)
        if deployment.service != self.name:
            raise ValueError(f"{deployment.name} is a deployment of {deployment.service}")
        if "demo_body" not in settings.model_fields_set:
            settings = settings.model_copy(update={"demo_body": deployment.body})
        return create_app(
            deployment.name,
            settings,
            routers=self.routers,
            title=self.title,
            nav=self.nav,
            public_nav=self.public_nav,
            template_dirs=[self.pages] if self.pages else [],
            projections=self.projections,
            deployment=deployment,
        )


@cache
def declared() -> dict[str, ServiceDeclaration]:
    """Every declared service, by name, in port order."""
    found: list[ServiceDeclaration] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        decl = ep.load()
        if not isinstance(decl, ServiceDeclaration) or decl.name != ep.name:
            raise TypeError(f"entry point {ep.name} ({ep.value}) is not a ServiceDeclaration of it")
        found.append(decl)
    if not found:
        raise RuntimeError(
            f"no services declared (entry points {ENTRY_POINT_GROUP!r}): reinstall the package"
        )
    return {d.name: d for d in sorted(found, key=lambda d: (d.port, d.name))}


def declaration(name: str) -> ServiceDeclaration:
    try:
        return declared()[name]
    except KeyError:
        raise KeyError(f"unknown service {name!r}: one of {', '.join(declared())}") from None
