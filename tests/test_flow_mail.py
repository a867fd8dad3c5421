"""Mailers: SMTP against a local SMTP server started by the test, the file mailer, and the service."""

from __future__ import annotations

import email
import io
import socket
import socketserver
import threading
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from test_flow_support import ACCOUNT, make_env

from idverify.errors import EngineError
from idverify.flow import ActivationService, FileMailer, SmtpMailer, State


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough RFC 5321 to receive a message (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)."""

    server: SmtpSink

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self.reply("220 sink.local ESMTP test sink")
        sender, rcpts = "", []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            cmd = raw.decode("ascii", "replace").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-sink.local\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == "HELO":
                self.reply("250 sink.local")
            elif verb == "MAIL":
                sender, rcpts = cmd.split(":", 1)[1].split()[0].strip("<>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpt = cmd.split(":", 1)[1].split()[0].strip("<>")
                if rcpt.endswith("@refused.example"):
                    self.reply("550 no such user")
                else:
                    rcpts.append(rcpt)
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if line in (b".\r\n", b".\n", b""):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                self.server.received.append((sender, rcpts, email.message_from_bytes(b"".join(lines))))
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.received: list[tuple[str, list[str], Message]] = []


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_smtp_mailer_delivers_to_a_local_server(sink: SmtpSink) -> None:
    port = sink.server_address[1]
    mailer = SmtpMailer("127.0.0.1", port, sender="no-reply@idverify.test", timeout=5)
    mailer.send("camille@example.org", "Votre code d'activation", "Votre code : 042917\nÀ bientôt.\n")
    sender, rcpts, msg = sink.received[-1]
    assert (sender, rcpts) == ("no-reply@idverify.test", ["camille@example.org"])
    assert msg["Subject"] == "Votre code d'activation" and msg["Message-ID"] and msg["Date"]
    assert "042917" in msg.get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]


def test_smtp_failures_become_mail_send_failed(sink: SmtpSink) -> None:
    port = sink.server_address[1]
    with pytest.raises(EngineError) as info:
        SmtpMailer("127.0.0.1", port, sender="a@b.test", timeout=5).send("x@refused.example", "s", "b")
    assert info.value.reason == "mail_send_failed"
    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with pytest.raises(EngineError) as info:
        SmtpMailer("127.0.0.1", dead, sender="a@b.test", timeout=2).send("x@example.org", "s", "b")
    assert info.value.reason == "mail_send_failed"


def test_service_sends_the_code_over_smtp(sink: SmtpSink, tmp_path: Path) -> None:
    e = make_env(tmp_path)
    service = ActivationService(e.store, mailer=SmtpMailer("127.0.0.1", sink.server_address[1],
                                                           sender="no-reply@idverify.test", timeout=5),
                                accounts=e.accounts, vault=e.vault, clock=e.clock, verifier=e.verifier,
                                nir_parser=e.service.parse_nir, config=e.service.config)
    a = e.walk_to(State.EMAIL_CODE)
    assert service.send_email_code(a).ok
    _, rcpts, msg = sink.received[-1]
    assert rcpts == [ACCOUNT.email]
    body = msg.get_payload(decode=True).decode("utf-8")  # type: ignore[union-attr]
    code = body.split(": ")[1][:6]
    assert service.submit_email_code(a, code).state is State.IDENTITY
    e.store.close()


def test_file_mailer_writes_eml_files_and_console(tmp_path: Path) -> None:
    FileMailer(tmp_path / "mail").send("a@example.org", "Code", "Votre code : 123456")
    (eml,) = (tmp_path / "mail").iterdir()
    msg = email.message_from_bytes(eml.read_bytes())
    assert msg["To"] == "a@example.org" and "123456" in msg.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert (tmp_path / "mail").stat().st_mode & 0o777 == 0o700
    out = io.StringIO()
    FileMailer(stream=out).send("b@example.org", "Code", "Votre code : 654987")
    assert "To: b@example.org" in out.getvalue()
