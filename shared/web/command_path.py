"""The command path of a service: decide, check, sign, append, read back, answer — in two lines.

A command route declares ``Depends(command(role))`` (sign-in, role, idempotency key) and takes
a :data:`LedgerDep`; its body is then::

    stream = ledger.new_stream("case")
    return await ledger.run(stream, lambda state: commands.receive(state, body, ledger.actor))

``run`` hands the stream's state to the pure ``decide``, and the writer checks its drafts
against the rule book before signing (a refusal is a 409 problem naming the reason; nothing is
appended), signs with the service's own key, appends, reads the verdict back through the live
fold and answers with the event ids and log positions. A racing writer's event makes it decide
again; a byte-identical retry gets the first answer from the idempotency store, and a retry
after a crash between append and answer finds its events in the log by their ids (keyed hashes
of deployment, operator, idempotency key and index) and answers from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import orjson
from fastapi import Depends, Request
from pydantic import BaseModel, Field

from shared.crypto.signing import SigningKey
from shared.events.ids import command_event_id
from shared.ledger import keystore
from shared.ledger.live import LiveFold
from shared.ledger.reader import registry_fold
from shared.ledger.signer import Signer
from shared.ledger.signing_keys import KeyChoice, KeyRing, KeyState, choose_key
from shared.ledger.snapshots import StreamSnapshots
from shared.ledger.writer import Decide, EventWriter, Submission
from shared.log.factory import open_log
from shared.log.port import EventLog
from shared.readiness import CheckResult
from shared.rules.case import NEW, CaseState
from shared.rules.stream import StreamState
from shared.settings import LedgerSettings
from shared.web.context import IDEMPOTENCY_CLAIM, OPERATOR, get_context
from shared.web.identity import Operator
from shared.web.problems import CONFLICT, LEDGER_UNAVAILABLE, SIGNING_KEY_REVOKED, ProblemError

log = logging.getLogger(__name__)

ID_SECRET_PURPOSE = "command-event-ids"
SNAPSHOT_SECRET_PURPOSE = "stream-snapshots"
SNAPSHOTS_FILE = "stream-snapshots.sqlite3"


class Refusal(Exception):
    """Raised by a pure ``decide``: the command cannot apply in the stream's state. ``reason``
    is a stable code, ``detail`` fixed text (zh-CN); neither carries a submitted value."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def known_case(state: StreamState) -> CaseState:
    """The case a command acts on; refused (``unknown_case``) if nothing has opened it."""
    case = state.domain
    assert isinstance(case, CaseState)
    if case.status == NEW:
        raise Refusal("unknown_case", "没有这件投诉")
    return case


class EventAnswer(BaseModel):
    id: str = Field(description="Event id (derived from the idempotency key: a retry is the same)")
    type: str
    partition: int
    offset: int


class CommandAnswer(BaseModel):
    stream: str = Field(description="The stream (case or conference) the command wrote to")
    events: list[EventAnswer]
    position: dict[str, int] = Field(
        description="Log position after the command ({partition: next offset}): pass it as "
        "?after=p:n to a read to see the command's effect (read-your-writes)"
    )


class ServiceWriter:
    """The service's writer: its deployment's keys, the log (opened on first use) and the live
    fold it shares with the service's projector when one runs.

    Before every write it signs with the newest key of the deployment's key folder that the
    registry holds valid (``shared/ledger/signing_keys.py``): a rotated key is used as soon as
    its registration is read, with no restart. The registry is what the projector has read,
    re-read here every ``key_check_seconds`` and before a write is refused for want of a key;
    a revoked key, with no newer one registered, stops every write (503
    ``signing-key-revoked``, an error in the log, ``/readyz`` not ready)."""

    def __init__(
        self,
        settings: LedgerSettings,
        key_name: str,
        deployment: str,
        live: Callable[[], LiveFold | None] | None = None,
        on_appended: Callable[[], None] | None = None,
        snapshots_path: Path | None = None,
    ) -> None:
        self.settings = settings
        self.key_name = key_name
        self.deployment = deployment
        self._live = live
        self.snapshots_path = snapshots_path or settings.var_dir / key_name / SNAPSHOTS_FILE
        self.on_appended = on_appended  # e.g. wake the projector: a read may wait for it
        self.keys = KeyRing(keystore.key_dir(settings, key_name))
        self.choice: KeyChoice | None = None  # the last key decision (for /readyz and the log)
        self._writer: EventWriter | None = None
        self._log: EventLog | None = None
        self._secret = b""
        self._snapshots: StreamSnapshots | None = None
        self._lock = asyncio.Lock()
        self._warming: asyncio.Task[None] | None = None
        self._watching: asyncio.Task[None] | None = None
        self._revoked: dict[str, int] = {}  # kid -> registry version, from fresh reads

    def _ids_secret(self) -> bytes:
        """The deployment's secret for event ids, read once: it outlives key rotations, so a
        retry derives the same ids before and after one (and finds its stream)."""
        if not self._secret:
            try:
                self._secret = keystore.deployment_secret(
                    self.settings, self.key_name, ID_SECRET_PURPOSE
                )
            except FileNotFoundError:
                raise ProblemError(
                    LEDGER_UNAVAILABLE, "本服务的签名密钥尚未就绪", headers={"Retry-After": "30"}
                ) from None
        return self._secret

    async def writer(self) -> EventWriter:
        if self._writer is None:
            async with self._lock:
                if self._writer is None:
                    keys = self.keys.read()
                    if not keys:
                        raise ProblemError(
                            LEDGER_UNAVAILABLE,
                            "本服务的签名密钥尚未就绪",
                            headers={"Retry-After": "30"},
                        )
                    try:
                        genesis = keystore.genesis_public(self.settings)
                        self._log = await open_log(self.settings)
                    except (OSError, ConnectionError) as exc:
                        log.warning("command path: ledger unavailable (%s)", type(exc).__name__)
                        raise ProblemError(
                            LEDGER_UNAVAILABLE, "账本暂不可用", headers={"Retry-After": "5"}
                        ) from None
                    self._snapshots = StreamSnapshots(
                        self.snapshots_path,
                        keystore.deployment_secret(
                            self.settings, self.key_name, SNAPSHOT_SECRET_PURPOSE
                        ),
                    )
                    self._writer = EventWriter(
                        self._log,
                        Signer(self.deployment, keys[-1]),
                        genesis,
                        live=self._live,
                        snapshots=self._snapshots,
                    )
        return self._writer

    async def key_choice(self, *, fresh: bool = False) -> KeyChoice:
        """Which key signs now: the newest key of the folder that the registry the writer signs
        against holds valid; the writer is switched to it, and a change is logged.

        ``fresh`` also reads the registry anew, apart (the projector's live registry is its
        own to advance: a second reader of it would make the projector see registry events
        twice), to learn of a revocation the live registry has not reached yet."""
        writer = await self.writer()
        if fresh:
            if not writer.live.owned_by_projector:
                await writer.live.refresh_registry()
            latest = await registry_fold(writer.log, writer.genesis)
            for kid, entry in latest.registry.keys.items():
                if entry.deployment == self.deployment and entry.revoked_at is not None:
                    self._revoked[kid] = entry.revoked_at
        fold = await writer.registry()
        keys = self.keys.read()
        usable = [k for k in keys if k.kid not in self._revoked]
        choice = choose_key(usable, fold.registry, self.deployment)
        if choice.state is not KeyState.ok and len(usable) < len(keys):
            at, kid = max((self._revoked[k.kid], k.kid) for k in keys if k.kid in self._revoked)
            choice = KeyChoice(KeyState.revoked, None, kid, choice.version, at)
        self._note(choice)
        if choice.key is not None and writer.signer.key.kid != choice.key.kid:
            writer.signer = Signer(self.deployment, choice.key)
        return choice

    def _note(self, choice: KeyChoice) -> None:
        before = self.choice
        self.choice = choice
        if before is not None and (before.state, before.kid) == (choice.state, choice.kid):
            return
        if choice.state is KeyState.ok:
            if before is not None:
                log.warning("%s: %s", self.key_name, choice.reason)
        else:
            log.error("%s: %s", self.key_name, choice.reason)

    async def signing_writer(self) -> EventWriter:
        """The writer, signing with the key the registry holds valid now; else a 503 problem."""
        writer = await self.writer()
        choice = await self.key_choice()
        if choice.state is not KeyState.ok:
            choice = await self.key_choice(fresh=True)  # perhaps registered (or revoked) since
        if choice.state is KeyState.revoked:
            log.error("%s: command refused: %s", self.key_name, choice.reason)
            raise ProblemError(
                SIGNING_KEY_REVOKED,
                "本服务的签名密钥已被吊销：新密钥登记之前不写入账本",
                headers={"Retry-After": "60"},
                extensions={"kid": choice.kid},
            )
        if choice.state is not KeyState.ok:
            log.error("%s: command refused: %s", self.key_name, choice.reason)
            raise ProblemError(
                LEDGER_UNAVAILABLE, "本服务的签名密钥尚未登记", headers={"Retry-After": "30"}
            )
        return writer

    def call_key(self) -> SigningKey:
        """The key a signed internal call carries (``shared/web/signed_calls``): the one last
        chosen to sign events; before any choice, the folder's newest."""
        if self.choice is not None and self.choice.key is not None:
            return self.choice.key
        keys = self.keys.read()
        if not keys:
            raise ProblemError(
                LEDGER_UNAVAILABLE, "本服务的签名密钥尚未就绪", headers={"Retry-After": "30"}
            )
        return keys[-1]

    async def key_ready(self) -> CheckResult:
        """The readiness check ``signing_key``: a registered, unrevoked key signs."""
        try:
            choice = await self.key_choice()
        except ProblemError:
            return CheckResult(False, "the ledger or the key folder is not available")
        return CheckResult(choice.state is KeyState.ok, choice.reason)

    def event_id(self, operator: str, idempotency_key: str, index: int) -> str:
        return command_event_id(
            self._ids_secret(), self.deployment, operator, idempotency_key, index
        )

    def start(self) -> None:
        """Warm up in the background as the app starts (the key, the log, the registry and,
        on Kafka, the stream index), so the first command costs what later ones do. A ledger
        that is away now is opened by the first command instead. Then look at the key folder
        and the registry every ``key_check_seconds``."""
        self._warming = asyncio.create_task(self._warm_up(), name="writer-warm-up")
        self._watching = asyncio.create_task(self._watch_keys(), name="writer-key-watch")

    async def _warm_up(self) -> None:
        try:
            await (await self.writer()).warm_up()
            await self.key_choice()
        except Exception as exc:
            log.warning("command path: warm-up failed (%s)", type(exc).__name__)

    async def _watch_keys(self) -> None:
        while True:
            await asyncio.sleep(self.settings.key_check_seconds)
            try:
                await self.key_choice(fresh=True)
            except Exception as exc:  # the ledger away: the next command says so
                log.debug("command path: key check failed (%s)", type(exc).__name__)

    async def close(self) -> None:
        for task in (self._warming, self._watching):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._warming = self._watching = None
        if self._log is not None:
            await self._log.close()
        if self._snapshots is not None:
            self._snapshots.close()
        self._log = self._writer = self._snapshots = None


class Ledger:
    """One command's handle on the log: who sends it, under which key.

    Built before the route's other dependencies are known to have passed (FastAPI solves them
    all, then reports every validation error), so the operator and the key are read from the
    request when first used: by then ``command(...)`` has signed the operator in and claimed
    the key, or the handler never runs."""

    def __init__(self, service: ServiceWriter, request: Request) -> None:
        self.service = service
        self._scope = request.scope

    @property
    def operator(self) -> Operator:
        operator = self._scope.get(OPERATOR)
        if not isinstance(operator, Operator):
            raise RuntimeError("a route taking LedgerDep must declare Depends(command(...)) first")
        return operator

    @property
    def idempotency_key(self) -> str:
        claim = self._scope.get(IDEMPOTENCY_CLAIM)
        if not claim:
            raise RuntimeError("a route taking LedgerDep must declare Depends(command(...)) first")
        return str(claim[1])

    @property
    def actor(self) -> str:
        """The actor the events name: the operator's body or unit and staff id."""
        return f"{self.operator.body}/{self.operator.staff_id}"

    def event_id(self, index: int) -> str:
        return self.service.event_id(self.operator.staff_id, self.idempotency_key, index)

    def new_stream(self, kind: str) -> str:
        """The id of the stream this command opens (a retry opens the same one)."""
        return f"{kind}-{self.event_id(-1)}"

    async def submit(self, stream: str, decide: Decide) -> Submission:
        writer = await self.service.signing_writer()
        result = await writer.submit(stream, decide, ids=self.event_id)
        if result.accepted and self.service.on_appended is not None:
            self.service.on_appended()
        return result

    async def run(self, stream: str, decide: Decide) -> CommandAnswer:
        """Submit and answer: the accepted events, or a 409 problem naming the reason."""
        try:
            result = await self.submit(stream, decide)
        except Refusal as exc:
            raise ProblemError(
                CONFLICT, exc.detail, extensions={"reason": exc.reason, "stream": stream}
            ) from None
        refused = result.refused
        if refused is not None or not result.written:
            reason = str(refused.reason) if refused is not None else "nothing_to_do"
            raise ProblemError(
                CONFLICT,
                f"规则校验未通过（{reason}），未写入账本",
                extensions={"reason": reason, "stream": stream},
            )
        return answer(result)


def answer(result: Submission) -> CommandAnswer:
    events = []
    position: dict[str, int] = {}
    for w in result.written:
        assert w.position is not None
        p = w.position
        events.append(
            EventAnswer(
                id=w.event_id, type=_type_of(w.record), partition=p.partition, offset=p.offset
            )
        )
        position[str(p.partition)] = max(position.get(str(p.partition), 0), p.offset + 1)
    return CommandAnswer(stream=result.stream, events=events, position=position)


def _type_of(record: bytes) -> str:
    value = orjson.loads(record).get("type")
    return value if isinstance(value, str) else ""


def ledger_for(request: Request) -> Ledger:
    """The dependency behind :data:`LedgerDep` (the route must also declare ``command(...)``)."""
    ctx = get_context(request)
    if ctx.writer is None:
        raise RuntimeError(f"{ctx.service} declares no deployment: it cannot write to the log")
    return Ledger(ctx.writer, request)


async def _ledger_dependency(request: Request) -> Ledger:
    # Async (no I/O): a sync dependency would cost a worker-thread round trip per command.
    return ledger_for(request)


LedgerDep = Annotated[Ledger, Depends(_ledger_dependency)]
