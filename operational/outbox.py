"""The notice outbox (通知发件箱): notices are written with their event, sent later.

:func:`enqueue` adds a notice in the caller's transaction (the event and its notice commit or
roll back together); its ``idempotency_key`` is unique, so the same notice is never queued twice.
:func:`drain` hands unsent notices to a :class:`Sender` and marks each sent only after the
sender returned — a crash in between sends it again with the same key, which the receiver uses
to drop the repeat (at least once here, exactly once at a receiver that honours the key).

Senders are pluggable: :class:`LogSender` (the default: writes the notice to the log),
:class:`WebhookSender` (HTTP POST with an ``Idempotency-Key`` header, retried). An SMS gateway is
one more class with a ``send(notice)`` method (docs/tickets.md, "Notices").
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from operational.audit import snapshot
from operational.models import Notice, utcnow

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
        wait = self.backoff
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(
                self.url,
                data=body,
                method="POST",
                headers={
                    "Content-Type": "application/json",
                    "Idempotency-Key": notice.idempotency_key,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    if 200 <= response.status < 300:
                        return
                    raise OSError(f"HTTP {response.status}")
            except OSError:
                if attempt == self.retries:
                    raise
                self._sleep(wait)
                wait *= 2


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
