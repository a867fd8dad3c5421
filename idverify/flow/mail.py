"""Mailer port and adapters: SMTP (stdlib ``smtplib``), a file/console one, and an in-memory fake.

A mailer raises :class:`idverify.errors.EngineError` (reason ``mail_send_failed``)
when the message could not be handed over; the service then undoes the send.

>>> m = MemoryMailer()
>>> m.send("a@example.org", "Votre code", "123456")
>>> m.messages[-1].to
'a@example.org'
"""

from __future__ import annotations

import dataclasses
import smtplib
import ssl
import sys
import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol, TextIO, runtime_checkable

from idverify.errors import EngineError


@runtime_checkable
class Mailer(Protocol):
    """Delivers one plain-text e-mail or raises ``EngineError('mail_send_failed')``."""

    def send(self, to: str, subject: str, body: str) -> None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class SentMessage:
    to: str
    subject: str
    body: str


def build_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A standards-compliant ``EmailMessage`` (Date, Message-ID, UTF-8 body)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "idverify.local")
    msg.set_content(body)
    return msg


class MemoryMailer:
    """Keeps messages in memory (tests and demos). ``fail`` makes the next sends raise."""

    def __init__(self) -> None:
        self.messages: list[SentMessage] = []
        self.fail = False
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, body: str) -> None:
        if self.fail:
            raise EngineError("mail_send_failed", "MemoryMailer.fail is set")
        with self._lock:
            self.messages.append(SentMessage(to, subject, body))

    def last_to(self, to: str) -> SentMessage | None:
        with self._lock:
            return next((m for m in reversed(self.messages) if m.to == to), None)


class FileMailer:
    """Writes each message as an ``.eml`` file into ``directory`` (or prints it to ``stream``).

    For development and demos: the e-mail code is in the message, so the
    directory is created ``0700``.
    """

    def __init__(self, directory: str | Path | None = None, *, stream: TextIO | None = None,
                 sender: str = "no-reply@idverify.local") -> None:
        self.directory = Path(directory) if directory is not None else None
        self.stream = stream if stream is not None or directory is not None else sys.stdout
        self.sender = sender
        self._n = 0
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, body: str) -> None:
        msg = build_message(self.sender, to, subject, body)
        try:
            if self.directory is not None:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                with self._lock:
                    self._n += 1
                    n = self._n
                name = f"{n:06d}-{msg['Message-ID'].strip('<>').replace('/', '_')}.eml"
                (self.directory / name).write_bytes(bytes(msg))
            if self.stream is not None:
                self.stream.write(msg.as_string() + "\n")
                self.stream.flush()
        except OSError as exc:
            raise EngineError("mail_send_failed", f"cannot write the message: {exc}") from exc


class SmtpMailer:
    """Sends through an SMTP server with ``smtplib`` (optional STARTTLS / implicit TLS and login)."""

    def __init__(self, host: str, port: int = 25, *, sender: str, starttls: bool = False,
                 implicit_tls: bool = False, username: str | None = None, password: str | None = None,
                 timeout: float = 10.0, ssl_context: ssl.SSLContext | None = None) -> None:
        if starttls and implicit_tls:
            raise ValueError("choose starttls or implicit_tls, not both")
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.implicit_tls = starttls, implicit_tls
        self.username, self.password = username, password
        self.timeout = timeout
        self.ssl_context = ssl_context

    def send(self, to: str, subject: str, body: str) -> None:
        msg = build_message(self.sender, to, subject, body)
        ctx = self.ssl_context or ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if self.implicit_tls:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=ctx)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls:
                    smtp.starttls(context=ctx)
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(msg)
                if refused:
                    raise EngineError("mail_send_failed", f"recipient refused: {sorted(refused)}")
        except (smtplib.SMTPException, OSError) as exc:
            raise EngineError("mail_send_failed", f"SMTP {self.host}:{self.port}: {type(exc).__name__}") from exc
