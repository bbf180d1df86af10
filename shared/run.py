"""``python -m shared.run`` (``make run``): every configured deployment on loopback, one process
each.

A deployment's key, its memory and a flood of requests on it stay its own: each runs in its own
process (``python -m shared.run --serve NAME``, with ``LEDGER_DEPLOYMENT=NAME``) on its port
(``LEDGER_<NAME>_PORT``, else the deployments file's, else its service's declared one). The
deployments are the deployments file's (``LEDGER_DEPLOYMENTS_FILE``), else one per declared
service. This parent creates the ledger first (keys and registrations, unless
``LEDGER_INIT_LEDGER=false``) — holding every key in one place, which it says — binds every port
(so a taken port fails before anything starts) and hands each socket to its process; Ctrl-C (or
SIGTERM) stops them all, a second Ctrl-C at once. A child whose parent dies stops too. Every
file it and its children create is owner-only (umask 077).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence

import uvicorn
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.ledger.bootstrap import init_ledger
from shared.ledger.configuration import publish_defaults
from shared.ledger.deployments import DeploymentSpec, configured, spec
from shared.log.factory import open_log
from shared.private_files import owner_only
from shared.service import declaration, declared
from shared.web.protocol import ProblemH11Protocol
from shared.web.settings import WebSettings


class RunSettings(WebSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", env_file=".env", extra="ignore")

    init_ledger: bool = Field(
        True,
        description="Create keys and register deployments before starting (the embedded "
        "default); deployments whose genesis key is held offline set it false",
    )


def port_of(deployment: DeploymentSpec) -> int:
    """``LEDGER_<NAME>_PORT`` if set, else the deployment's port, else its service's."""
    raw = os.environ.get(f"LEDGER_{deployment.name.upper().replace('-', '_')}_PORT")
    if raw:
        return int(raw)
    return deployment.port or declaration(deployment.service).port


def served_deployments(settings: WebSettings, names: Sequence[str] = ()) -> list[DeploymentSpec]:
    """The configured deployments of declared services (``names``: only these deployments, or
    every deployment of these services)."""
    services = declared()
    chosen = [d for d in configured(settings) if d.service in services]
    if names:
        chosen = [d for d in chosen if d.name in names or d.service in names]
    return chosen


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


async def _init_ledger(settings: RunSettings) -> None:
    """The log exists and every deployment's key is registered before a service starts."""
    log = await open_log(settings)
    try:
        result = await init_ledger(log, settings)
        await publish_defaults(log, settings)  # the default directories, by their owners
    finally:
        await log.close()
    backend = settings.log_backend
    where = settings.sqlite_log_file if backend == "sqlite" else settings.kafka_bootstrap
    print(f"ledger: {backend} log at {where}; {len(result.registered)} deployments registered now")
    print(
        f"keys: single-machine demonstration: the genesis key and every deployment's key are "
        f"held in one place, {settings.keys_dir}/ (in deployment each body keeps its own and the "
        "genesis key stays offline: `ledger keys`)",
        flush=True,
    )


# -- one service (the child) -------------------------------------------------------------------


class _ChildServer(uvicorn.Server):
    async def main_loop(self) -> None:
        """uvicorn's own loop, plus a look at the parent: orphaned, the service stops."""
        parent = os.getppid()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864_000
            await asyncio.sleep(0.1)
            if os.getppid() != parent:
                self.should_exit = True


def serve_one(name: str, fd: int) -> int:
    owner_only()
    settings = WebSettings()
    deployment = spec(name, settings)
    settings = settings.model_copy(update={"port": port_of(deployment), "deployment": name})
    app = declaration(deployment.service).create_app(settings, deployment)
    config = uvicorn.Config(
        app,
        fd=fd,
        log_config=None,  # keep our JSON logging
        access_log=False,  # raw paths are submitted values; we log route templates
        server_header=False,
        lifespan="on",
        http=ProblemH11Protocol,  # uvicorn's own 400s as problem+json
    )
    _ChildServer(config).run()
    return 0


# -- every service (the parent) ----------------------------------------------------------------


@contextlib.contextmanager
def _signals_forwarded(children: Sequence[subprocess.Popen[bytes]]) -> Iterator[None]:
    stops = 0

    def forward(signum: int, _frame: object) -> None:
        nonlocal stops
        stops += 1
        for child in children:
            if child.poll() is None:
                # Once: a graceful stop; twice: at once, without waiting for open connections.
                child.send_signal(signal.SIGTERM if stops == 1 else signal.SIGKILL)

    old = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def serve_all(names: Sequence[str]) -> int:
    owner_only()
    settings = RunSettings()
    chosen = served_deployments(settings, names)
    if settings.init_ledger:
        asyncio.run(_init_ledger(settings))
    sockets: list[tuple[DeploymentSpec, socket.socket]] = []
    for deployment in chosen:
        port = port_of(deployment)
        try:
            sockets.append((deployment, _bind(settings.host, port)))
        except OSError as exc:
            print(
                f"{deployment.name}: cannot listen on {settings.host}:{port} ({exc.strerror})",
                file=sys.stderr,
            )
            return 1
    children: list[subprocess.Popen[bytes]] = []
    lines: list[str] = []
    with _signals_forwarded(children):
        for deployment, sock in sockets:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "shared.run",
                    "--serve",
                    deployment.name,
                    "--fd",
                    str(sock.fileno()),
                ],
                pass_fds=[sock.fileno()],
                env={**os.environ, "LEDGER_DEPLOYMENT": deployment.name},
                start_new_session=True,  # Ctrl-C reaches the parent only, which forwards it
            )
            children.append(child)
            url = f"http://{settings.host}:{port_of(deployment)}/"
            lines.append(
                f"  {deployment.name:<12} {url:<26} API docs: {url}docs  (pid {child.pid})"
            )
        for _, sock in sockets:
            sock.close()  # the children hold them now
        print("\n效能监督账本 Supervision Ledger is running, one process per deployment:")
        print("\n".join(lines))
        print(
            "\nSign in (页面登录): open a URL above and use a demo staff id and password, printed\n"
            f"on first run and kept in {settings.var_dir}/<deployment>/demo-operators.txt"
            " (mode 0600).\n"
            'API: POST /auth/token with {"staff_id": ..., "password": ...}, then send\n'
            "'Authorization: Bearer <access_token>'. Press Ctrl-C to stop.\n",
            flush=True,
        )
        failed = _wait(children, [s.name for s, _ in sockets])
    print("stopped.", flush=True)
    return 1 if failed else 0


def _wait(children: Sequence[subprocess.Popen[bytes]], names: Sequence[str]) -> bool:
    """Wait for every child; if one dies on its own, stop the others. True if one failed."""
    failed: set[int] = set()
    while True:
        for c, name in zip(children, names, strict=True):
            code = c.poll()
            if code not in (None, 0, -signal.SIGTERM) and c.pid not in failed:
                failed.add(c.pid)
                print(f"{name} (pid {c.pid}) ended with status {code}", file=sys.stderr)
                for other in children:
                    if other.poll() is None:
                        other.send_signal(signal.SIGTERM)
        if all(c.poll() is not None for c in children):
            return bool(failed)
        time.sleep(0.1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.run", description=__doc__)
    parser.add_argument(
        "services", nargs="*", help="deployments (or services) to run (default: all)"
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # the child: one service
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve_one(args.serve, args.fd)
    known = {d.name for d in served_deployments(WebSettings())} | set(declared())
    unknown = [n for n in args.services if n not in known]
    if unknown:
        one_of = ", ".join(sorted(known))
        parser.error(f"unknown deployment(s) {', '.join(unknown)}: one of {one_of}")
    return serve_all(args.services)


if __name__ == "__main__":
    sys.exit(main())
