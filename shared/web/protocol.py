"""Rejections the server makes before the app sees a request, as close to problem+json as
uvicorn allows.

A request line or header block that does not parse (bad characters, a header too large, a
broken chunked body) never reaches the app: uvicorn's HTTP protocol answers it with a plain-text
400 of its own. :class:`ProblemH11Protocol` is uvicorn's h11 protocol with that one answer
replaced by our ``bad-request`` problem (no request id exists yet, so a fresh correlation id is
given; the parser's message, which can quote the bytes received, is not sent). Use it with
``uvicorn.Config(app, http=ProblemH11Protocol)``. What stays uvicorn's own (README,
"Services and sign-in"): the 503 ``--limit-concurrency`` answers with, connections closed for a
timeout or a protocol upgrade it cannot serve, and the httptools protocol (not installed here).
"""

from __future__ import annotations

import uuid

import h11
import orjson
from uvicorn.protocols.http.h11_impl import H11Protocol

from shared.web.problems import BAD_REQUEST, PROBLEM_MEDIA_TYPE


def bad_request_body() -> bytes:
    return orjson.dumps(
        {
            "type": BAD_REQUEST.uri,
            "title": BAD_REQUEST.title,
            "status": BAD_REQUEST.status,
            "detail": "HTTP 请求格式不正确",
            "correlation_id": str(uuid.uuid4()),
        }
    )


class ProblemH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        body = bad_request_body()
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        self.transport.write(
            self.conn.send(h11.Response(status_code=400, headers=headers, reason=b"Bad Request"))
            or b""
        )
        self.transport.write(self.conn.send(h11.Data(data=body)) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()
