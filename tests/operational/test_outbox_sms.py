"""The SMS adapter point of the notice outbox: through a fake gateway that, like a real one,
drops a repeated client message id, a notice is retried after transient failures, reaches each
holder once even when the drain crashes after sending, stays queued (not lost) while the gateway
is down, and the sender is chosen by configuration."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from operational import outbox
from operational.models import Notice
from operational.services import tickets
from tests.operational.test_tickets import H, _dispatched_complaint, _world
from tests.operational.test_workflow_support import T0

MANAGER_PHONES = ["13800000001", "13800000002"]


class FakeGateway:
    """An SMS gateway: delivers a text once per client message id; fails the next
    ``fail_next`` attempts with a transient error (or for good with ``down``)."""

    def __init__(self) -> None:
        self.delivered: dict[str, tuple[str, str]] = {}  # message id → (phone, text)
        self.attempts = 0
        self.fail_next = 0
        self.down = False

    def recipients(self, role: str, office_id: int) -> Sequence[str]:
        return {"office_manager": MANAGER_PHONES, "city_audit_manager": ["13900000009"]}.get(
            role, []
        )

    def send_sms(self, phone: str, text: str, *, message_id: str) -> None:
        self.attempts += 1
        if self.down or self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("gateway busy")
        self.delivered.setdefault(message_id, (phone, text))


def _sender(gateway: FakeGateway, retries: int = 3) -> outbox.SmsSender:
    return outbox.SmsSender(gateway, language="en", retries=retries, sleep=lambda _: None)


def test_sms_retries_and_reaches_each_holder_once_with_the_notice_key(session: Session) -> None:
    w = _world(session)
    complaint = _dispatched_complaint(w, T0)
    (notice,) = w.session.scalars(select(Notice)).all()
    gateway = FakeGateway()
    gateway.fail_next = 2  # the first number fails twice, then goes through
    assert outbox.drain(w.session, _sender(gateway)) == 1
    assert gateway.attempts == 4
    assert sorted(gateway.delivered) == [f"{notice.idempotency_key}:{p}" for p in MANAGER_PHONES]
    assert {phone for phone, _ in gateway.delivered.values()} == set(MANAGER_PHONES)
    (_, text), _ = gateway.delivered.values()
    assert complaint.document_no in text and "dispatched to you" in text
    assert notice.sent_at is not None
    # Drained again (nothing left), and the same notice queued again: nothing more is sent.
    assert outbox.drain(w.session, _sender(gateway)) == 0
    assert (
        outbox.enqueue(
            w.session,
            key=notice.idempotency_key,
            kind=notice.kind,
            office_id=notice.office_id,
            document_no=notice.document_no,
            recipient_role=notice.recipient_role,
            payload=notice.payload,
        )
        is None
    )
    assert len(gateway.delivered) == 2


def test_a_crash_after_sending_sends_again_with_the_same_ids_and_the_gateway_drops_it(
    session: Session,
) -> None:
    w = _world(session)
    _dispatched_complaint(w, T0)
    gateway = FakeGateway()
    savepoint = w.session.begin_nested()
    assert outbox.drain(w.session, _sender(gateway)) == 1
    savepoint.rollback()  # the process died before the "sent" mark was committed
    (notice,) = w.session.scalars(select(Notice)).all()
    assert notice.sent_at is None
    first = dict(gateway.delivered)
    assert outbox.drain(w.session, _sender(gateway)) == 1
    assert gateway.attempts == 4  # both numbers were sent to twice …
    assert gateway.delivered == first  # … with the same message ids: delivered once


def test_while_the_gateway_is_down_the_notice_stays_queued_and_goes_out_later(
    session: Session,
) -> None:
    w = _world(session)
    complaint = _dispatched_complaint(w, T0)
    assert tickets.check_escalations(w.session, as_of=T0 + 49 * H) == 1  # level 1: a notice
    gateway = FakeGateway()
    gateway.down = True
    assert outbox.drain(w.session, _sender(gateway, retries=1)) == 0
    queued = w.session.scalars(select(Notice).where(Notice.sent_at.is_(None))).all()
    assert len(queued) == 2 and all(n.attempts == 1 and n.last_error for n in queued)
    assert gateway.attempts == 4  # each notice's first number, tried twice
    gateway.down = False
    assert outbox.drain(w.session, _sender(gateway)) == 2
    escalated = [text for _, text in gateway.delivered.values() if "level 1" in text]
    assert escalated == [
        f"Complaint {complaint.document_no} escalated to level 1 (not resolved in time):"
        " it is now yours to follow"
    ]


def test_a_role_without_a_number_keeps_the_notice_queued(session: Session) -> None:
    w = _world(session)
    _dispatched_complaint(w, T0)
    tickets.check_escalations(w.session, as_of=T0 + 49 * H)
    complaint_notices = w.session.scalars(select(Notice)).all()
    for n in complaint_notices:
        n.recipient_role = "group_audit_manager"  # no number for this role at the gateway
    gateway = FakeGateway()
    assert outbox.drain(w.session, _sender(gateway)) == 0
    assert all(n.sent_at is None and n.last_error for n in complaint_notices)
    assert gateway.attempts == 0


def test_the_sender_is_chosen_by_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROPCLOUD_NOTICE_SENDER", raising=False)
    assert isinstance(outbox.configured_sender(), outbox.LogSender)
    monkeypatch.setenv("PROPCLOUD_NOTICE_SENDER", "webhook")
    monkeypatch.setenv("PROPCLOUD_NOTICE_WEBHOOK_URL", "http://127.0.0.1:9/notices")
    webhook = outbox.configured_sender()
    assert isinstance(webhook, outbox.WebhookSender) and webhook.url.endswith("/notices")
    monkeypatch.setenv("PROPCLOUD_NOTICE_SENDER", "sms")
    monkeypatch.setenv("PROPCLOUD_SMS_GATEWAY", f"{__name__}:FakeGateway")
    sms = outbox.configured_sender()
    assert isinstance(sms, outbox.SmsSender) and isinstance(sms.gateway, FakeGateway)
    monkeypatch.setenv("PROPCLOUD_SMS_GATEWAY", "no_colon_here")
    with pytest.raises(ValueError, match="PROPCLOUD_SMS_GATEWAY"):
        outbox.configured_sender()
    monkeypatch.setenv("PROPCLOUD_NOTICE_SENDER", "pigeon")
    with pytest.raises(ValueError, match="unknown sender"):
        outbox.configured_sender()
