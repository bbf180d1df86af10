"""Deployments: who signs (a key in its own folder), as which CloudEvents source, for whom, with
which rights, owning which kinds of configuration.

Deployments are configuration. ``LEDGER_DEPLOYMENTS_FILE`` names a TOML file listing them; without
one, the built-in single-body demonstration is used: every service's own declaration
(``services/<name>/app.py``) plus the ledger's auditor. A running service is told which one it
is (``LEDGER_DEPLOYMENT``; ``make run`` sets it for each process) and signs only with that
deployment's key; each deployment keeps its data under ``var/<deployment name>/`` (with the
built-in declarations the names are the services', so that is ``var/<service>/``).

Their registration, keys, rights and configuration ownership are registry events signed by the
genesis key (``ledger init`` on a fresh log, or ``ledger keys register`` where the genesis key is
held). Each kind of act has exactly one signer: complainants act through intake, units through
oversight's workbench (every ``handling.*`` act a unit makes), dispatch rules on returns,
oversight's supervisors on extensions. Each kind of configuration has one owner, which
publishes its versions itself.

The file (one ``[[deployment]]`` table each; only ``name``, ``service`` and ``body`` are
required, the rest defaults from the service's declaration with its body replaced)::

    [[deployment]]
    name = "intake-a"                 # its key folder and data folder are named after it
    service = "intake"
    body = "efficiency-office"
    source = "/bodies/efficiency-office/intake"   # default /bodies/<body>/<service>
    rights = ["ledger.complaint.*", "ledger.complainant.*"]
    acts_for = ["efficiency-office", "complainant"]
    configs = []                      # default: the service's kinds, for its first deployment
    key_dir = "/srv/ledger/keys/intake-a"          # default <var_dir>/keys/<name>
    port = 8001                       # default: the service's port, for its first deployment
    calls = [["/bodies/efficiency-office/intake", "redaction"]]  # default: the declared calls,
                                      # a call to its own body's service kept within the body
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

if TYPE_CHECKING:
    from shared.settings import LedgerSettings


@dataclass(frozen=True)
class DeploymentSpec:
    name: str  # its key folder (<var_dir>/keys/<name>/) and data folder (<var_dir>/<name>/)
    deployment: str  # CloudEvents source
    body: str
    service: str
    acts_for: tuple[str, ...]
    rights: tuple[str, ...]
    configs: tuple[str, ...] = ()  # the kinds of configuration it owns and publishes
    key_dir: Path | None = None  # where its private keys live (default <var_dir>/keys/<name>/)
    port: int | None = None  # under `make run` (default: its service's declared port)
    # (callee deployment, endpoint): internal endpoints of other deployments it may call with
    # signed requests (shared/web/signed_calls.py); ``ledger init`` grants them.
    calls: tuple[tuple[str, str], ...] = ()


CONFIG_RIGHT = "ledger.registry.config_published.v1"


BODY = "efficiency-office"  # the body of the single-machine demonstration

AUDITOR = DeploymentSpec(
    "auditor", "/ledger/auditor", "ledger", "auditor", ("ledger",), ("ledger.audit.*",)
)
"""The ledger's own deployment (digests, seals); every service declares its own
(``shared/service.py``). Always configured, unless a deployments file names its own."""

GENESIS_ACTOR = "ledger/genesis"
AUDITOR_ACTOR = "ledger/auditor"


class DeploymentsFileError(ValueError):
    """The deployments file cannot be used (the message names the file and the entry)."""


Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
Org = Annotated[str, Field(pattern=r"^[a-z0-9:._-]{1,80}$")]
Source = Annotated[str, Field(pattern=r"^/[a-z0-9._/-]{1,120}$")]
Pattern = Annotated[str, Field(pattern=r"^[a-z0-9:._*-]{1,80}$")]
TypePattern = Annotated[str, Field(pattern=r"^ledger\.[a-z0-9_.*]+$")]


class DeploymentEntry(BaseModel):
    """One ``[[deployment]]`` table of the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    service: Annotated[str, Field(pattern=r"^[a-z-]{1,40}$")]
    body: Org
    source: Source | None = None
    rights: list[TypePattern] | None = None
    acts_for: list[Pattern] | None = None
    configs: list[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]] | None = None
    key_dir: Path | None = None
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    # [callee source, endpoint] pairs: internal endpoints of other deployments it may call
    calls: list[tuple[Source, Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,40}$")]]] | None = None


class DeploymentsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    deployment: Annotated[list[DeploymentEntry], Field(min_length=1)]


def default_deployments() -> tuple[DeploymentSpec, ...]:
    """Every declared service's deployment, then the auditor's: the built-in demonstration."""
    from shared.service import declared

    return (*(d.deployment for d in declared().values()), AUDITOR)


def declared_specs() -> dict[str, DeploymentSpec]:
    """Each declared service's own deployment, by service name (the auditor's included)."""
    from shared.service import declared

    return {**{name: d.deployment for name, d in declared().items()}, AUDITOR.service: AUDITOR}


def resolve(
    entries: Sequence[DeploymentEntry], declared: dict[str, DeploymentSpec]
) -> tuple[DeploymentSpec, ...]:
    """The file's entries as deployments, defaults filled from their services' declarations.

    Pure: raises :class:`DeploymentsFileError` for an unknown service, a name or source used
    twice, a kind of configuration owned twice, or two deployments of a service on one port."""
    out: list[DeploymentSpec] = []
    first_of: set[str] = set()
    for e in entries:
        base = declared.get(e.service)
        if base is None:
            known = ", ".join(sorted(declared))
            raise DeploymentsFileError(f"{e.name}: unknown service {e.service!r} (one of {known})")
        first = e.service not in first_of
        first_of.add(e.service)
        acts_for = (
            tuple(e.acts_for)
            if e.acts_for is not None
            else tuple(e.body if p == base.body else p for p in base.acts_for)
        )
        declared_port = declared_port_of(e.service)
        # A declared call to the same body's service is a call to this body's one.
        own, mine = f"/bodies/{base.body}/", f"/bodies/{e.body}/"
        calls = (
            tuple((callee, endpoint) for callee, endpoint in e.calls)
            if e.calls is not None
            else tuple(
                (mine + callee.removeprefix(own) if callee.startswith(own) else callee, endpoint)
                for callee, endpoint in base.calls
            )
        )
        out.append(
            DeploymentSpec(
                name=e.name,
                deployment=e.source or f"/bodies/{e.body}/{e.service}",
                body=e.body,
                service=e.service,
                acts_for=acts_for,
                rights=tuple(e.rights) if e.rights is not None else base.rights,
                configs=tuple(e.configs)
                if e.configs is not None
                else (base.configs if first else ()),
                key_dir=e.key_dir,
                calls=calls,
                port=e.port if e.port is not None else (declared_port if first else None),
            )
        )
    if not any(s.name == AUDITOR.name for s in out):
        out.append(AUDITOR)
    _check_unique(out)
    return tuple(out)


def declared_port_of(service: str) -> int | None:
    from shared.service import declared

    d = declared().get(service)
    return d.port if d is not None else None


def _check_unique(specs: Sequence[DeploymentSpec]) -> None:
    seen: dict[str, str] = {}
    for s in specs:
        for what, value in (
            ("name", s.name),
            ("source", s.deployment),
            *(("configuration kind", k) for k in s.configs),
            *((("port", str(s.port)),) if s.port is not None else ()),
        ):
            key = f"{what} {value}"
            if key in seen:
                raise DeploymentsFileError(f"{s.name}: {key} is already {seen[key]}'s")
            seen[key] = s.name
        if s.port is None and s.service != AUDITOR.service:
            raise DeploymentsFileError(
                f"{s.name}: a second deployment of {s.service} needs its own port"
            )


def read_file(path: Path) -> tuple[DeploymentSpec, ...]:
    """The deployments a TOML file lists (see the module docstring)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        parsed = DeploymentsFile.model_validate(raw)
    except FileNotFoundError:
        raise DeploymentsFileError(f"{path}: no such deployments file") from None
    except tomllib.TOMLDecodeError as exc:
        raise DeploymentsFileError(f"{path}: not TOML ({exc})") from None
    except ValidationError as exc:
        where = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise DeploymentsFileError(f"{path}: {where}") from None
    try:
        return resolve(parsed.deployment, declared_specs())
    except DeploymentsFileError as exc:
        raise DeploymentsFileError(f"{path}: {exc}") from None


def configured(settings: LedgerSettings | None = None) -> tuple[DeploymentSpec, ...]:
    """The deployments in force: the settings' deployments file, else the built-in ones."""
    if settings is None:
        from shared.settings import get_settings

        settings = get_settings()
    if settings.deployments_file is None:
        return default_deployments()
    return read_file(settings.deployments_file)


def spec(name: str, settings: LedgerSettings | None = None) -> DeploymentSpec:
    """The deployment called ``name``: among the configured ones when settings are given,
    else among the built-in ones."""
    specs = configured(settings) if settings is not None else default_deployments()
    for s in specs:
        if s.name == name:
            return s
    raise KeyError(name)


def of_service(service: str, settings: LedgerSettings) -> DeploymentSpec:
    """The deployment a process of ``service`` runs as: ``LEDGER_DEPLOYMENT`` if set (it must be
    one of this service's), else the service's only configured deployment."""
    mine = [s for s in configured(settings) if s.service == service]
    if settings.deployment is not None:
        for s in mine:
            if s.name == settings.deployment:
                return s
        raise DeploymentsFileError(
            f"LEDGER_DEPLOYMENT={settings.deployment} is not a deployment of {service} "
            f"(its deployments: {', '.join(s.name for s in mine) or 'none'})"
        )
    if len(mine) == 1:
        return mine[0]
    if not mine:
        raise DeploymentsFileError(f"no deployment of {service} is configured")
    raise DeploymentsFileError(
        f"{service} has {len(mine)} deployments ({', '.join(s.name for s in mine)}): "
        "set LEDGER_DEPLOYMENT to the one this process is"
    )
