"""Real servers for the alert channel tests: an SMTP server (aiosmtpd) and a webhook receiver.

Both listen on 127.0.0.1, record what they receive, and stop when the block ends.
"""

from __future__ import annotations

import email
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.ports import free_port


@dataclass
class Mailbox:
    host: str
    port: int
    mails: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server, session, envelope):
        self.box.mails.append(email.message_from_bytes(envelope.original_content))
        self.box.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@contextmanager
def smtp_server(user: str = "", password: str = "") -> Iterator[Mailbox]:
    """An SMTP server; with ``user`` it accepts only that login (over plain text, for tests)."""
    box = Mailbox("127.0.0.1", free_port())

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (user, password)
        return AuthResult(success=ok, handled=False)  # False: the server answers 535 itself

    options = {"authenticator": authenticate, "auth_require_tls": False} if user else {}
    controller = Controller(_Handler(box), hostname=box.host, port=box.port, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Hook:
    url: str
    received: list[Received] = field(default_factory=list)
    fail_first: int = 0


@contextmanager
def webhook_server(fail_first: int = 0) -> Iterator[Hook]:
    """An HTTP server taking POSTs; answers 500 to the first ``fail_first`` of them."""
    hook = Hook("", fail_first=fail_first)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                hook.received.append(Received(dict(self.headers.items()), body))
                failing = len(hook.received) <= hook.fail_first
            self.send_response(500 if failing else 200)
            self.end_headers()
            self.wfile.write(b"down for maintenance" if failing else b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
