"""``python -m shared.run`` (``make run``): every service on loopback in one process.

Each service gets its own uvicorn server (ports 8001–8004 by default, ``LEDGER_<SERVICE>_PORT``
to change); one signal handler stops them all, so Ctrl-C shuts down cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import signal
import socket
import sys
from collections.abc import Iterator, Sequence

import uvicorn
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.ledger.bootstrap import init_ledger
from shared.log.factory import open_log
from shared.web.settings import WebSettings

SERVICES = ("intake", "dispatch", "oversight", "publication")


class RunSettings(WebSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", env_file=".env", extra="ignore")

    init_ledger: bool = Field(
        True,
        description="Create keys and register deployments before starting (the embedded "
        "default); deployments whose genesis key is held offline set it false",
    )
    intake_port: int = Field(8001, ge=1, le=65535, description="Port of intake under make run")
    dispatch_port: int = Field(8002, ge=1, le=65535, description="Port of dispatch under make run")
    oversight_port: int = Field(
        8003, ge=1, le=65535, description="Port of oversight under make run"
    )
    publication_port: int = Field(
        8004, ge=1, le=65535, description="Port of publication under make run"
    )

    def port_of(self, service: str) -> int:
        return int(getattr(self, f"{service}_port"))


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn's own handler would stop only the server that installed it last.
        yield


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


async def _serve(servers: Sequence[tuple[_Server, socket.socket]]) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server, _ in servers:
            # A second Ctrl-C stops at once, without waiting for open connections.
            server.force_exit = server.should_exit
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))


async def _init_ledger(settings: RunSettings) -> None:
    """The log exists and every deployment's key is registered before a service starts."""
    log = await open_log(settings)
    try:
        result = await init_ledger(log, settings)
    finally:
        await log.close()
    backend = settings.log_backend
    where = settings.sqlite_log_file if backend == "sqlite" else settings.kafka_bootstrap
    print(f"ledger: {backend} log at {where}; {len(result.registered)} deployments registered now")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.run", description=__doc__)
    parser.add_argument("services", nargs="*", choices=[*SERVICES, []], help="default: all")
    args = parser.parse_args(argv)
    chosen = list(args.services) or list(SERVICES)
    settings = RunSettings()
    if settings.init_ledger:
        asyncio.run(_init_ledger(settings))

    servers: list[tuple[_Server, socket.socket]] = []
    lines: list[str] = []
    for name in chosen:
        port = settings.port_of(name)
        try:
            sock = _bind(settings.host, port)
        except OSError as exc:
            print(
                f"{name}: cannot listen on {settings.host}:{port} ({exc.strerror})", file=sys.stderr
            )
            return 1
        module = importlib.import_module(f"services.{name}.app")
        service_settings = WebSettings(
            **settings.model_dump(exclude={f"{s}_port" for s in SERVICES}) | {"port": port}
        )
        app = module.create(service_settings)
        config = uvicorn.Config(
            app,
            log_config=None,  # keep our JSON logging
            access_log=False,  # raw paths are submitted values; we log route templates
            server_header=False,
            lifespan="on",
        )
        servers.append((_Server(config), sock))
        url = f"http://{settings.host}:{port}/"
        lines.append(f"  {name:<12} {url:<26} API docs: {url}docs")

    print("\n效能监督账本 Supervision Ledger is running:")
    print("\n".join(lines))
    print(
        "\nSign in (页面登录): open a URL above and use a demo staff id and password, printed\n"
        f"above on first run and kept in {settings.var_dir}/<service>/demo-operators.txt"
        " (mode 0600).\n"
        'API: POST /auth/token with {"staff_id": ..., "password": ...}, then send\n'
        "'Authorization: Bearer <access_token>'. Press Ctrl-C to stop.\n",
        flush=True,
    )
    asyncio.run(_serve(servers))
    for _, sock in servers:
        sock.close()
    print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
