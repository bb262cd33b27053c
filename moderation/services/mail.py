"""Email: the settings (the names Flask's mail extensions use), messages built with the
standard library's ``email`` package (plain text and HTML) and sent with ``smtplib``.

Nothing here queues: :mod:`moderation.services.notifications` writes messages to the
outbox, and the delivery worker calls :func:`send_stored` for each.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailSettings:
    """How to reach the SMTP server (or print, with the console backend)."""

    backend: str = "smtp"
    server: str = ""
    port: int = 25
    use_tls: bool = False
    use_ssl: bool = False
    username: str = ""
    password: str = ""
    sender: str = ""
    timeout: float = 10.0
    public_url: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        """The settings of an app's configuration."""
        return cls(
            backend=str(config["MAIL_BACKEND"] or "smtp").lower(),
            server=str(config["MAIL_SERVER"] or ""),
            port=int(config["MAIL_PORT"] or (465 if config["MAIL_USE_SSL"] else 25)),
            use_tls=bool(config["MAIL_USE_TLS"]),
            use_ssl=bool(config["MAIL_USE_SSL"]),
            username=str(config["MAIL_USERNAME"] or ""),
            password=str(config["MAIL_PASSWORD"] or ""),
            sender=str(config["MAIL_DEFAULT_SENDER"] or ""),
            timeout=float(config["MAIL_TIMEOUT"]),
            public_url=str(config["PUBLIC_URL"] or "").rstrip("/"),
        )

    def problem(self) -> str:
        """Why no email can be sent, or ``""`` when mail is ready."""
        if self.backend not in ("smtp", "console"):
            return f"MAIL_BACKEND is {self.backend!r}: choose smtp or console."
        if self.backend == "smtp" and not self.server:
            return "No mail server is configured (MAIL_SERVER): no email is queued or sent."
        if not self.sender:
            return "MAIL_DEFAULT_SENDER is not set: no email is queued or sent."
        if urlsplit(self.public_url).scheme not in ("http", "https"):
            return (
                "PUBLIC_URL is not set (http:// or https://): emails could carry no links, "
                "so none is queued or sent."
            )
        return ""


@dataclass(frozen=True)
class SendResult:
    """What the SMTP conversation ended with: a reply code and text, or an error."""

    code: int | None
    error: str
    duration_ms: int

    @property
    def delivered(self) -> bool:
        """2xx: the server took the message."""
        return self.code is not None and 200 <= self.code < 300


def build_message(stored: Mapping[str, Any], settings: MailSettings) -> EmailMessage:
    """A multipart/alternative message (plain text, then HTML) from an outbox payload."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = stored["to"]
    message["Subject"] = stored["subject"]
    message["Date"] = formatdate(localtime=False)
    host = urlsplit(settings.public_url).hostname or "localhost"
    message["Message-ID"] = stored.get("message_id") or make_msgid(domain=host)
    for name, value in (stored.get("headers") or {}).items():
        message[name] = value
    message.set_content(stored["text"])
    message.add_alternative(stored["html"], subtype="html")
    return message


def send_message(message: EmailMessage, settings: MailSettings) -> SendResult:
    """Send once; never raises for SMTP or network trouble, the result says what happened."""
    started = time.monotonic()

    def result(code: int | None, error: str) -> SendResult:
        return SendResult(code, error[:1000], int((time.monotonic() - started) * 1000))

    if settings.backend == "console":
        sys.stdout.write(message.as_string() + "\n")
        sys.stdout.flush()
        return result(250, "")
    try:
        smtp: smtplib.SMTP
        if settings.use_ssl:
            smtp = smtplib.SMTP_SSL(
                settings.server,
                settings.port,
                timeout=settings.timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password)
            refused = smtp.send_message(message)
            if refused:
                code, text = next(iter(refused.values()))
                return result(code, f"recipient refused: {code} {text.decode(errors='replace')}")
    except smtplib.SMTPResponseException as error:
        detail = error.smtp_error
        text_error = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        return result(error.smtp_code, f"SMTP {error.smtp_code}: {text_error}")
    except smtplib.SMTPRecipientsRefused:
        return result(None, "recipient refused")
    except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
        return result(None, f"{type(error).__name__}: {error}")
    return result(250, "")


def send_stored(stored: Mapping[str, Any], settings: MailSettings) -> SendResult:
    """Build and send one outbox payload (refused at once when mail is not configured)."""
    problem = settings.problem()
    if problem:
        return SendResult(None, problem, 0)
    return send_message(build_message(stored, settings), settings)


def test_message(address: str, settings: MailSettings) -> EmailMessage:
    """The message ``moderation mail test`` sends."""
    return build_message(
        {
            "to": address,
            "subject": "Test message from the comment moderation service",
            "text": "This is a test. If you read it, notifications can reach this address.\n",
            "html": "<p>This is a test. If you read it, notifications can reach this address.</p>",
        },
        settings,
    )
