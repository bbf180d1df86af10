"""Low-level rejections: a request uvicorn cannot parse gets our bad-request problem (not its
plain text) when the server runs with ProblemH11Protocol, and the parser's message, which can
quote the bytes received, is not sent back."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import orjson
import uvicorn

from services.intake.app import create
from shared.web.protocol import ProblemH11Protocol
from tests.integration.web_servers import free_port
from tests.web_fixtures import fast_settings


def raw_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


async def test_unparseable_requests_get_a_problem(tmp_path: Path) -> None:
    port = free_port()
    config = uvicorn.Config(
        create(fast_settings(tmp_path)),
        host="127.0.0.1",
        port=port,
        http=ProblemH11Protocol,
        log_config=None,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        answers = [
            await asyncio.to_thread(raw_exchange, port, request)
            for request in (
                b"GET /13812345678 HTTP/1.1\r\nHost: x\r\nBad Header 13812345678\r\n\r\n",
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 13812345678x\r\n\r\n",
                b"13812345678 nonsense\r\n\r\n",
            )
        ]
        fine = await asyncio.to_thread(
            raw_exchange, port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
    finally:
        server.should_exit = True
        await serving
    assert fine.startswith(b"HTTP/1.1 200")
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), answer[:200]
        assert b"content-type: application/problem+json" in head.lower()
        problem = orjson.loads(body)
        assert problem["type"] == "https://ledger.example/problems/bad-request"
        assert problem["status"] == 400 and problem["correlation_id"]
        assert b"13812345678" not in answer
