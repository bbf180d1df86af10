"""Sign-in that survives guessing: every attempt passes, in this order,

1. a per-client attempt rate (``LEDGER_SIGNIN_RATE_LIMIT``), counted before any hashing;
2. the lockouts that apply (account from this client, account from anywhere, this client for
   any account), kept in the identity file so a restart does not lift them;
3. the password gate (bounded argon2id concurrency, ``password_gate.py``);

and a failure is counted three ways in sliding windows (``limits``): account × client, account,
client. Reaching a threshold writes a lockout for ``LEDGER_SIGNIN_LOCKOUT_SECONDS``; until it
ends (or an administrator lifts it) the right password is refused too, with 429 and
``Retry-After``. Locking the pair first means a guesser on one account does not lock its owner
out from elsewhere, nor lock the guesser's neighbours out of their own accounts; the looser
account-wide and client-wide thresholds catch guessing spread over many addresses or accounts.

Each failure is logged with the account as a keyed hash (never the typed staff id, which may be
anything) and the client address, so an attack on one account shows in the log.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import structlog
from limits import RateLimitItem, RateLimitItemPerSecond
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from shared.web.identity import IdentityStore, Lockout, Operator
from shared.web.password_gate import PasswordGate
from shared.web.ratelimit import RateLimits, Refusal, client_address, too_many
from shared.web.service_secret import ServiceSecret
from shared.web.settings import WebSettings

log = structlog.get_logger("ledger.web")

Scope = Literal["account_client", "account", "client"]
_EVERY = ""  # the lockouts table's "any account" / "any client"


@dataclass(frozen=True)
class Caller:
    client: str  # the address, for the log
    client_hash: str
    account_hash: str
    account_label: str


class SignInGuard:
    def __init__(
        self,
        settings: WebSettings,
        identity: IdentityStore,
        secret: ServiceSecret,
        limits: RateLimits,
        gate: PasswordGate,
        clock: Callable[[], float],
    ) -> None:
        self.identity = identity
        self.secret = secret
        self.limits = limits
        self.gate = gate
        self.clock = clock
        self.lockout_seconds = settings.signin_lockout_seconds
        self.attempts = RateLimits.parse(settings.signin_rate_limit)
        window = settings.signin_failure_window_seconds
        self.failures: dict[Scope, RateLimitItem] = {
            "account_client": RateLimitItemPerSecond(
                settings.signin_max_failures_account_client, window
            ),
            "account": RateLimitItemPerSecond(settings.signin_max_failures_account, window),
            "client": RateLimitItemPerSecond(settings.signin_max_failures_client, window),
        }

    def account_hash(self, staff_id: str) -> str:
        return self.secret.digest("signin-account", staff_id)

    def client_hash(self, client: str) -> str:
        return self.secret.digest("signin-client", client)

    def _caller(self, request: Request, staff_id: str) -> Caller:
        client = client_address(request)
        account = self.account_hash(staff_id)
        return Caller(client, self.client_hash(client), account, account[:16])

    def _key(self, scope: Scope, caller: Caller) -> tuple[str, ...]:
        if scope == "account_client":
            return ("signin-failures", scope, caller.account_hash, caller.client_hash)
        if scope == "account":
            return ("signin-failures", scope, caller.account_hash)
        return ("signin-failures", scope, caller.client_hash)

    async def attempt(
        self, request: Request, staff_id: str, password: str, channel: str
    ) -> Operator | None:
        """The operator, or None for a wrong staff id or password; raises a 429 problem while
        throttled or locked, 503 while the password gate is full."""
        caller = self._caller(request, staff_id)
        refusal = await self.limits.spend(self.attempts, "signin-attempts", caller.client_hash)
        if refusal is not None:
            log.warning("signin.throttled", channel=channel, client=caller.client)
            raise too_many(refusal, "登录尝试过于频繁，请稍后再试")
        until = await run_in_threadpool(
            self.identity.locked_until, caller.account_hash, caller.client_hash
        )
        if until is not None:
            log.warning(
                "signin.refused_locked",
                channel=channel,
                account=caller.account_label,
                client=caller.client,
            )
            raise too_many(
                Refusal(max(1, math.ceil(until - self.clock()))),
                "登录失败次数过多，账号已暂时锁定，请稍后再试或联系系统管理员",
            )
        # The pair's count is charged before hashing (and cleared by the right password), so
        # concurrent guesses cannot overshoot it: the (N+1)th is refused here even while the
        # first N are still being checked.
        pair = self._key("account_client", caller)
        pair_item = self.failures["account_client"]
        if not await self.limits.limiter.hit(pair_item, *pair):
            # A full count after its lockout has ended starts afresh; otherwise this is a
            # guess racing the ones that filled it.
            ended = await run_in_threadpool(
                self.identity.end_if_over, caller.account_hash, caller.client_hash
            )
            if ended:
                await self.limits.limiter.clear(pair_item, *pair)
            if not ended or not await self.limits.limiter.hit(pair_item, *pair):
                await self._lock(caller, "account_client")
                raise too_many(
                    Refusal(self.lockout_seconds),
                    "登录失败次数过多，账号已暂时锁定，请稍后再试或联系系统管理员",
                )
        try:
            operator = await self.gate.run(self.identity.authenticate, staff_id, password)
        except BaseException:
            await self.limits.limiter.clear(self.failures["account_client"], *pair)
            raise
        if operator is None:
            await self._failed(caller, channel)
            return None
        # The right password from here ends this pair's count (not the account-wide one).
        await self.limits.limiter.clear(
            self.failures["account_client"], *self._key("account_client", caller)
        )
        return operator

    async def _failed(self, caller: Caller, channel: str) -> None:
        log.warning(
            "signin.failed",
            channel=channel,
            account=caller.account_label,
            client=caller.client,
        )
        for scope, item in self.failures.items():
            key = self._key(scope, caller)
            if scope != "account_client":  # that one was charged before hashing
                await self.limits.limiter.hit(item, *key)
            if not await self.limits.limiter.test(item, *key):
                await self._lock(caller, scope)

    async def _lock(self, caller: Caller, scope: Scope) -> None:
        account = caller.account_hash if scope != "client" else _EVERY
        client = caller.client_hash if scope != "account" else _EVERY
        until = self.clock() + self.lockout_seconds
        await run_in_threadpool(self.identity.lock, account, client, until)
        log.warning(
            "signin.locked",
            scope=scope,
            account=caller.account_label if account else None,
            client=caller.client if client else None,
            seconds=self.lockout_seconds,
        )

    async def lift(self, staff_id: str | None, client: str | None) -> int:
        """An administrator ends lockouts (and their failure counts) of an account or a client."""
        account = self.account_hash(staff_id) if staff_id else None
        client_h = self.client_hash(client) if client else None
        for lock in await run_in_threadpool(self.identity.lockouts):
            if (account and lock.account == account) or (client_h and lock.client == client_h):
                await self._forget(lock)
        if account:
            await self.limits.limiter.clear(
                self.failures["account"], "signin-failures", "account", account
            )
        if client_h:
            await self.limits.limiter.clear(
                self.failures["client"], "signin-failures", "client", client_h
            )
        lifted = await run_in_threadpool(self.identity.lift, account, client_h)
        log.warning(
            "signin.lockout_lifted",
            account=account[:16] if account else None,
            client=client,
            lifted=lifted,
        )
        return lifted

    async def _forget(self, lock: Lockout) -> None:
        if lock.account and lock.client:
            await self.limits.limiter.clear(
                self.failures["account_client"],
                "signin-failures",
                "account_client",
                lock.account,
                lock.client,
            )
