"""The notice outbox (通知发件箱): notices are written with their event, sent later.

:func:`enqueue` adds a notice in the caller's transaction (the event and its notice commit or
roll back together); its ``idempotency_key`` is unique, so the same notice is never queued twice.
:func:`drain` hands unsent notices to a :class:`Sender` and marks each sent only after the
sender returned — a crash in between sends it again with the same key, which the receiver uses
to drop the repeat (at least once here, exactly once at a receiver that honours the key).

Senders are pluggable: :class:`LogSender` (the default: writes the notice to the log),
:class:`WebhookSender` (HTTP POST with an ``Idempotency-Key`` header, retried), :class:`SmsSender`
(短信: a text per recipient through an :class:`SmsGateway` adapter, with a message id per notice
and recipient, retried the same way). :func:`configured_sender` picks one from the environment
(docs/tickets.md, "Notices").
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.audit import snapshot
from operational.i18n import t
from operational.models import Notice, utcnow
from operational.settings import default_language

log = logging.getLogger("propcloud.notices")


class Sender(Protocol):
    def send(self, notice: Notice) -> None:
        """Deliver ``notice`` or raise; ``notice.idempotency_key`` identifies it."""


class LogSender:
    """Writes each notice to the ``propcloud.notices`` log."""

    def send(self, notice: Notice) -> None:
        log.info(
            "notice %s %s to %s: %s",
            notice.idempotency_key,
            notice.kind,
            notice.recipient_role,
            json.dumps(notice.payload, ensure_ascii=False, sort_keys=True),
        )


class WebhookSender:
    """POSTs each notice as JSON to ``url`` with header ``Idempotency-Key``; retries a failed
    attempt ``retries`` times, waiting ``backoff`` seconds (doubling) in between."""

    def __init__(
        self,
        url: str,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self._sleep = sleep

    def send(self, notice: Notice) -> None:
        body = json.dumps(
            {
                "idempotency_key": notice.idempotency_key,
                "kind": notice.kind,
                "document_no": notice.document_no,
                "recipient_role": notice.recipient_role,
                "payload": notice.payload,
            },
            ensure_ascii=False,
        ).encode()

        def post() -> None:
            request = urllib.request.Request(
                self.url,
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "Idempotency-Key": notice.idempotency_key,
                },
            )
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                if not 200 <= response.status < 300:
                    raise OSError(f"HTTP {response.status}")

        with_retries(post, self.retries, self.backoff, self._sleep)


def with_retries(
    attempt: Callable[[], None], retries: int, backoff: float, sleep: Callable[[float], None]
) -> None:
    """Run ``attempt``; on an :class:`OSError` (a transient failure) try again up to ``retries``
    times, waiting ``backoff`` seconds (doubling) in between; the last failure is raised. Any
    other exception is raised at once. One retry rule for every sender."""
    wait = backoff
    for tried in range(retries + 1):
        try:
            attempt()
            return
        except OSError:
            if tried == retries:
                raise
            sleep(wait)
            wait *= 2


class SmsGateway(Protocol):
    """The adapter point for an SMS gateway (短信网关): a provider's client wrapped in these two
    methods (docs/tickets.md, "Notices")."""

    def recipients(self, role: str, office_id: int) -> Sequence[str]:
        """The mobile numbers of the holders of ``role`` (``office_manager``,
        ``city_audit_manager``, ``group_audit_manager``) for the office ``office_id``."""

    def send_sms(self, phone: str, text: str, *, message_id: str) -> None:
        """Send ``text`` to ``phone``, or raise: :class:`OSError` for a failure worth retrying
        (network, a busy gateway), anything else for one that is not. ``message_id`` is the same
        for every attempt at this notice and number: pass it as the provider's client message
        id (out id, 外部流水号), so the gateway drops a repeat."""


class SmsSender:
    """Sends each notice as a text (in ``language``, from the catalogue) to every number
    ``gateway.recipients`` gives for its recipient role and office, message id
    ``<idempotency key>:<number>``; each text is retried like the webhook (:func:`with_retries`).
    A notice with no recipient fails (it stays queued with the error, for the next drain)."""

    def __init__(
        self,
        gateway: SmsGateway,
        *,
        language: str = "zh_CN",
        retries: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.gateway = gateway
        self.language = language
        self.retries = retries
        self.backoff = backoff
        self._sleep = sleep

    def send(self, notice: Notice) -> None:
        phones = list(self.gateway.recipients(notice.recipient_role, notice.office_id))
        if not phones:
            raise LookupError(
                f"no SMS number for {notice.recipient_role} of office {notice.office_id}"
            )
        text = sms_text(notice, self.language)
        for phone in phones:
            message_id = f"{notice.idempotency_key}:{phone}"

            def attempt(phone: str = phone, message_id: str = message_id) -> None:
                self.gateway.send_sms(phone, text, message_id=message_id)

            with_retries(attempt, self.retries, self.backoff, self._sleep)


SMS_KINDS = ("complaint_dispatched", "complaint_escalated")
"""The notice kinds with a text of their own (``outbox.sms.<kind>``); others get a plain one."""


REASONS = ("timeout", "unsatisfied")


def sms_text(notice: Notice, language: str) -> str:
    """The text of ``notice`` in ``language``."""
    p = notice.payload
    kind = notice.kind if notice.kind in SMS_KINDS else "other"
    return t(
        f"outbox.sms.{kind}",
        language,
        document_no=notice.document_no,
        kind=notice.kind,
        subject=p.get("subject", ""),
        severity=p.get("severity", ""),
        level=p.get("level", ""),
        reason=t(f"outbox.sms.reason.{p['reason']}", language)
        if p.get("reason") in REASONS
        else "",
    )


def configured_sender() -> Sender:
    """The sender the environment names (docs/tickets.md, "Notices"): ``PROPCLOUD_NOTICE_SENDER``
    ``log`` (default), ``webhook`` (to ``PROPCLOUD_NOTICE_WEBHOOK_URL``) or ``sms`` (through the
    gateway ``PROPCLOUD_SMS_GATEWAY`` = ``package.module:factory`` returns, in the installation's
    language)."""
    kind = os.environ.get("PROPCLOUD_NOTICE_SENDER", "log").strip().lower() or "log"
    if kind == "log":
        return LogSender()
    if kind == "webhook":
        url = os.environ.get("PROPCLOUD_NOTICE_WEBHOOK_URL", "").strip()
        if not url:
            raise ValueError("PROPCLOUD_NOTICE_WEBHOOK_URL is not set")
        return WebhookSender(url)
    if kind == "sms":
        target = os.environ.get("PROPCLOUD_SMS_GATEWAY", "").strip()
        module, _, name = target.partition(":")
        if not module or not name:
            raise ValueError("PROPCLOUD_SMS_GATEWAY must be package.module:factory")
        factory = getattr(importlib.import_module(module), name)
        return SmsSender(factory(), language=default_language())
    raise ValueError(f"PROPCLOUD_NOTICE_SENDER: unknown sender {kind!r} (log, webhook, sms)")


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    office_id: int,
    document_no: str,
    recipient_role: str,
    payload: Mapping[str, Any],
) -> Notice | None:
    """Queue one notice in the caller's transaction; None if a notice with ``key`` exists."""
    if session.scalars(select(Notice.id).where(Notice.idempotency_key == key)).first():
        return None
    notice = Notice(
        idempotency_key=key,
        kind=kind,
        office_id=office_id,
        document_no=document_no,
        recipient_role=recipient_role,
        payload=snapshot(payload),
    )
    session.add(notice)
    session.flush()
    return notice


def drain(
    session: Session, sender: Sender, *, limit: int = 500, now: datetime | None = None
) -> int:
    """Send up to ``limit`` unsent notices, oldest first; returns how many were sent. A notice
    whose sending fails keeps ``sent_at`` NULL (its attempts and error are recorded) and is
    tried again by the next drain. The caller commits."""
    sent = 0
    notices = session.scalars(
        select(Notice).where(Notice.sent_at.is_(None)).order_by(Notice.id).limit(limit)
    ).all()
    for notice in notices:
        notice.attempts += 1
        try:
            sender.send(notice)
        except Exception as exc:
            notice.last_error = str(exc)[:500]
            continue
        notice.sent_at = now or utcnow()
        notice.last_error = None
        sent += 1
    session.flush()
    return sent
