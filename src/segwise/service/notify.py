"""Delivering alerts: a JSON POST to a webhook (with a timeout and a bounded retry) and an
e-mail through the SMTP server in the settings. Each channel reports "sent" or why not, in
words that carry no secret (no URL path, no password)."""

from __future__ import annotations

import json
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from email.message import EmailMessage
from typing import Any

from segwise.config import Settings
from segwise.errors import InputError

RETRY_PAUSE_S = 0.5  # before the 2nd try; doubled before each further one
MAX_ADDRESSES = 20
MAX_URL = 2_000


def check_webhook(url: str) -> str:
    """``url`` when it is an http(s) URL with a host (else one line saying how to write it)."""
    if len(url) > MAX_URL:
        raise InputError(
            f"the webhook URL is {len(url):,} characters long", hint=f"use at most {MAX_URL:,}"
        )
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(
            f"webhook '{shown_url(url)}' is not an http(s) URL",
            hint="write it as https://host/path, e.g. https://hooks.example.org/segwise",
        )
    return url.strip()


def check_addresses(text: str) -> list[str]:
    """The comma-separated e-mail addresses of ``text``, each checked for one '@'."""
    found = [a.strip() for a in text.split(",") if a.strip()]
    bad = [a for a in found if a.count("@") != 1 or " " in a or a.startswith("@")]
    if not found or bad or len(found) > MAX_ADDRESSES:
        raise InputError(
            f"'{bad[0] if bad else text}' is not a list of e-mail addresses",
            hint=f"give up to {MAX_ADDRESSES} addresses separated by commas, e.g. ops@example.org",
        )
    return found


def shown_url(url: str) -> str:
    """A webhook as messages and lists show it: scheme and host only (paths carry tokens)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}/…"


def post_webhook(url: str, payload: dict[str, Any], settings: Settings) -> str:
    """POST ``payload`` as JSON; "sent" on a 2xx answer, else why it failed after the tries
    allowed (a 4xx is not tried again: the receiver refused it)."""
    body = json.dumps(payload).encode()
    request = urllib.request.Request(
        check_webhook(url),
        data=body,
        headers={"Content-Type": "application/json", "User-Agent": "segwise-alerts"},
        method="POST",
    )
    tries = 1 + settings.alert_webhook_retries
    reason = "not tried"
    for attempt in range(tries):
        if attempt:
            time.sleep(RETRY_PAUSE_S * 2 ** (attempt - 1))
        try:
            with urllib.request.urlopen(request, timeout=settings.alert_webhook_timeout) as answer:
                answer.read(1024)
                return "sent"
        except urllib.error.HTTPError as error:
            reason = f"HTTP {error.code}"
            if 400 <= error.code < 500:
                break
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            cause = getattr(error, "reason", error)
            reason = type(cause).__name__ if not isinstance(cause, str) else cause
    return f"failed after {attempt + 1} tr{'y' if attempt == 0 else 'ies'}: {reason}"


def send_email(to: list[str], subject: str, text: str, settings: Settings) -> str:
    """Mail ``text`` to ``to`` through the settings' SMTP server; "sent" or why not."""
    if not settings.smtp_host:
        return "failed: no SMTP server (set SEGWISE_SMTP_HOST)"
    message = EmailMessage()
    message["From"] = settings.alert_email_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(text)
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.alert_webhook_timeout * 2
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_user, password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        return f"failed: {type(error).__name__}"
    return "sent"
