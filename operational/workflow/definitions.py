"""The document types of maintenance control, as data for the engine.

Later documents (inspections, repairs, complaints, …) add their own :class:`DocumentType` here.
"""

from __future__ import annotations

from operational.auth import Permission
from operational.models import (
    ComplaintTicket,
    CorrectiveOrder,
    InquiryTicket,
    InspectionOrder,
    NonconformityCorrective,
    NonconformityHandling,
    NonconformityNotice,
    PeriodicOrder,
    PeriodicPlan,
    ProfessionalInspectionPlan,
    QualityInspectionPlan,
    RepairTicket,
    Ticket,
)
from operational.workflow.engine import KEEP, ClockSpec, DocumentType, Transition, register

COMPLETION = "completion"

PERIODIC_PLAN = register(
    DocumentType(
        name="periodic_plan",
        model=PeriodicPlan,
        number_prefix="PP",
        states=("draft", "submitted", "approved", "returned"),
        transitions=(
            Transition("draft", (None,), "draft", Permission.DRAFT_PLANS),
            # The next version of an approved plan, drafted as a new plan (plans.change_plan).
            Transition("change", (None,), "draft", Permission.DRAFT_PLANS),
            # The drafter edits a draft or a returned plan (then submits it again).
            Transition(
                "revise",
                ("draft", "returned"),
                "draft",
                Permission.DRAFT_PLANS,
                party="drafted_by_id",
                todo=False,
            ),
            Transition(
                "submit",
                ("draft", "returned"),
                "submitted",
                Permission.DRAFT_PLANS,
                party="drafted_by_id",
            ),
            Transition("approve", ("submitted",), "approved", Permission.APPROVE_PLANS),
            Transition("return", ("submitted",), "returned", Permission.APPROVE_PLANS),
            # An approved plan ends from a day on (no orders for later dates) ...
            Transition("end", ("approved",), "approved", Permission.APPROVE_PLANS, todo=False),
            # ... or, when its next version is approved, ends the day before that one takes over.
            Transition(
                "supersede", ("approved",), "approved", Permission.APPROVE_PLANS, todo=False
            ),
        ),
    )
)

PERIODIC_ORDER = register(
    DocumentType(
        name="periodic_order",
        model=PeriodicOrder,
        number_prefix="PM",
        states=("issued", "assigned", "closed"),
        transitions=(
            # Issued to the plan's responsible person by order generation, never by hand.
            Transition("issue", (None,), "issued", None, starts=(COMPLETION,)),
            Transition(
                "assign", ("issued",), "assigned", Permission.MANAGE_ORDERS, party="responsible_id"
            ),
            Transition(
                "reassign",
                ("assigned",),
                "assigned",
                Permission.MANAGE_ORDERS,
                party="responsible_id",
                todo=False,
            ),
            Transition(
                "complete",
                ("assigned",),
                "closed",
                Permission.HANDLE_ORDERS,
                party="handler_id",
                stops=(COMPLETION,),
            ),
        ),
        clocks=(ClockSpec(COMPLETION, not_before="work_starts_at"),),
    )
)

CORRECTIVE_ORDER = register(
    DocumentType(
        name="corrective_order",
        model=CorrectiveOrder,
        number_prefix="CM",
        states=("open", "assigned", "waiting", "processed", "closed"),
        transitions=(
            Transition("raise", (None,), "open", Permission.RAISE_ORDERS, starts=(COMPLETION,)),
            Transition(
                "assign", ("open",), "assigned", Permission.MANAGE_ORDERS, party="responsible_id"
            ),
            Transition(
                "reassign",
                ("assigned",),
                "assigned",
                Permission.MANAGE_ORDERS,
                party="responsible_id",
                todo=False,
            ),
            # The handler waits for parts or for the owner (挂起): the clock pauses, and its
            # deadline moves by the paused working time when the work resumes.
            Transition(
                "wait",
                ("assigned",),
                "waiting",
                Permission.HANDLE_ORDERS,
                party="handler_id",
                pauses=(COMPLETION,),
                todo=False,
            ),
            Transition(
                "resume",
                ("waiting",),
                "assigned",
                Permission.HANDLE_ORDERS,
                party="handler_id",
                resumes=(COMPLETION,),
            ),
            Transition(
                "process",
                ("assigned",),
                "processed",
                Permission.HANDLE_ORDERS,
                party="handler_id",
            ),
            Transition(
                "verify",
                ("processed",),
                "closed",
                Permission.MANAGE_ORDERS,
                party="responsible_id",
                stops=(COMPLETION,),
            ),
            Transition(
                "send_back",
                ("processed",),
                "assigned",
                Permission.MANAGE_ORDERS,
                party="responsible_id",
            ),
        ),
        clocks=(ClockSpec(COMPLETION),),
    )
)


# --- customer-service tickets (docs/tickets.md) ----------------------------------------------

PICKUP = "pickup"  # 接单: dispatch → the handler opens the task
ON_SITE = "on_site"  # 到场: urgent and appointment repairs
RESOLUTION = "resolution"  # 处理: receipt → resolved
ESCALATED_RESOLUTION = "escalated_resolution"  # a complaint escalated to level 1

_CS_TASK = "cs_task"  # the targets' document type of every pickup clock


def _pickup_target(_: object) -> str:
    return _CS_TASK


def _on_site_target(ticket: Ticket) -> str | None:
    """Urgent repairs run 30 calendar minutes; appointment ones are due at the appointed time
    (``due_field``); normal repairs have no on-site clock."""
    return {"urgent": "urgent_repair", "appointment": "appointment_repair"}.get(
        ticket.urgency or ""
    )


def _complaint_target(ticket: Ticket) -> str:
    return f"complaint_{ticket.severity}"


_TICKET_STATES = ("recorded", "dispatched", "in_progress", "resolved", "closed")

INQUIRY = register(
    DocumentType(
        name="inquiry",
        model=InquiryTicket,
        number_prefix="ZX",
        states=("todo", "open", "replied", "closed"),
        transitions=(
            # An inquiry goes to the office's CS staff as it is recorded (待办).
            Transition("record", (None,), "todo", Permission.RECORD_TICKETS, starts=(PICKUP,)),
            Transition("open", ("todo",), "open", Permission.HANDLE_TICKETS, stops=(PICKUP,)),
            Transition("reply", ("open",), "replied", Permission.HANDLE_TICKETS),
            Transition("close", ("replied",), "closed", Permission.HANDLE_TICKETS),
        ),
        clocks=(ClockSpec(PICKUP, target_type=_pickup_target),),
        discipline_field=None,
    )
)

REPAIR = register(
    DocumentType(
        name="repair",
        model=RepairTicket,
        number_prefix="BX",
        states=_TICKET_STATES,
        transitions=(
            Transition(
                "record", (None,), "recorded", Permission.RECORD_TICKETS, starts=(RESOLUTION,)
            ),
            # To a technician (handler_id); night tasks wait for the next working interval.
            Transition(
                "dispatch",
                ("recorded",),
                "dispatched",
                Permission.RECORD_TICKETS,
                starts=(PICKUP, ON_SITE),
            ),
            Transition(
                "pick_up",
                ("dispatched",),
                "in_progress",
                Permission.HANDLE_TICKETS,
                party="handler_id",
                stops=(PICKUP,),
            ),
            Transition(
                "arrive",
                ("in_progress",),
                "in_progress",
                Permission.HANDLE_TICKETS,
                party="handler_id",
                stops=(ON_SITE,),
                todo=False,
            ),
            # Resolving also stops an on-site clock no arrival stopped: the technician was there.
            Transition(
                "resolve",
                ("in_progress",),
                "resolved",
                Permission.HANDLE_TICKETS,
                party="handler_id",
                stops=(RESOLUTION, ON_SITE),
            ),
            # 回访 by the call centre; an unsatisfied one may open a rework (a new repair).
            Transition("follow_up", ("resolved",), "closed", Permission.RECORD_TICKETS),
        ),
        clocks=(
            ClockSpec(RESOLUTION),
            ClockSpec(PICKUP, target_type=_pickup_target),
            ClockSpec(ON_SITE, target_type=_on_site_target, due_field="appointment_at"),
        ),
        discipline_field=None,
    )
)

COMPLAINT = register(
    DocumentType(
        name="complaint",
        model=ComplaintTicket,
        number_prefix="TS",
        states=_TICKET_STATES,
        transitions=(
            Transition(
                "record", (None,), "recorded", Permission.RECORD_TICKETS, starts=(RESOLUTION,)
            ),
            # To the office manager (handler_id), with a notice.
            Transition(
                "dispatch",
                ("recorded",),
                "dispatched",
                Permission.RECORD_TICKETS,
                starts=(PICKUP,),
            ),
            Transition(
                "pick_up",
                ("dispatched",),
                "in_progress",
                Permission.HANDLE_TICKETS,
                party="handler_id",
                stops=(PICKUP,),
            ),
            Transition(
                "resolve",
                ("in_progress",),
                "resolved",
                Permission.HANDLE_TICKETS,
                party="handler_id",
                stops=(RESOLUTION, ESCALATED_RESOLUTION),
            ),
            Transition("follow_up", ("resolved",), "closed", Permission.RECORD_TICKETS),
            # An unsatisfied follow-up opens the complaint again (and escalates it, see
            # operational/escalation.py).
            Transition(
                "follow_up_unsatisfied",
                ("resolved",),
                "in_progress",
                Permission.RECORD_TICKETS,
                todo=False,
            ),
            # The ladder's levels: events of the complaint, taken by the product alone.
            Transition(
                "escalate_1", _TICKET_STATES, KEEP, None, starts=(ESCALATED_RESOLUTION,), todo=False
            ),
            Transition("escalate_2", _TICKET_STATES, KEEP, None, todo=False),
        ),
        clocks=(
            ClockSpec(RESOLUTION, target_type=_complaint_target),
            ClockSpec(PICKUP, target_type=_pickup_target),
            ClockSpec(ESCALATED_RESOLUTION, target_type=_complaint_target),
        ),
        discipline_field=None,
    )
)


# --- inspections (docs/inspections.md) --------------------------------------------------------


def _inspection_plan_transitions(draft: Permission, approve: Permission) -> tuple[Transition, ...]:
    """draft → submit → approve or return, as periodic plans; who drafts and who approves is
    the kind's (professional: supervisor / office manager; quality: office manager / city
    internal audit)."""
    return (
        Transition("draft", (None,), "draft", draft),
        Transition(
            "revise", ("draft", "returned"), "draft", draft, party="drafted_by_id", todo=False
        ),
        Transition("submit", ("draft", "returned"), "submitted", draft, party="drafted_by_id"),
        Transition("approve", ("submitted",), "approved", approve),
        Transition("return", ("submitted",), "returned", approve),
    )


_PLAN_STATES = ("draft", "submitted", "approved", "returned")

PROFESSIONAL_INSPECTION_PLAN = register(
    DocumentType(
        name="professional_inspection_plan",
        model=ProfessionalInspectionPlan,
        number_prefix="IP",
        states=_PLAN_STATES,
        transitions=_inspection_plan_transitions(
            Permission.DRAFT_INSPECTIONS, Permission.APPROVE_INSPECTIONS
        ),
    )
)

QUALITY_INSPECTION_PLAN = register(
    DocumentType(
        name="quality_inspection_plan",
        model=QualityInspectionPlan,
        number_prefix="QP",
        states=_PLAN_STATES,
        transitions=_inspection_plan_transitions(
            Permission.DRAFT_QUALITY_INSPECTIONS, Permission.APPROVE_QUALITY_INSPECTIONS
        ),
    )
)

INSPECTION_ORDER = register(
    DocumentType(
        name="inspection",
        model=InspectionOrder,
        number_prefix="IO",
        states=("issued", "in_progress", "submitted"),
        transitions=(
            # Issued to the plan's inspector by order generation, never by hand.
            Transition("issue", (None,), "issued", None, starts=(COMPLETION,)),
            Transition(
                "start", ("issued",), "in_progress", Permission.INSPECT, party="inspector_id"
            ),
            # Refused while a failed item has no nonconformity (services/inspections.py).
            Transition(
                "submit",
                ("in_progress",),
                "submitted",
                Permission.INSPECT,
                party="inspector_id",
                stops=(COMPLETION,),
            ),
        ),
        clocks=(ClockSpec(COMPLETION, not_before="work_starts_at"),),
    )
)
# --- nonconformities (不合格单据, docs/nonconformities.md) -------------------------------------
# Each kind runs one clock, ``completion``: from opening to its last step (acknowledged,
# verified), with the office's target per discipline (``ClockPolicy``) or the default of
# ``operational.sla.DEFAULT_TARGETS``. Whoever the ticket is assigned to (``assignee_id``: office
# staff or a supplier user) acts; whoever opened it verifies (and may reassign it).

NC_NOTICE = register(
    DocumentType(
        name="nonconformity_notice",
        model=NonconformityNotice,
        number_prefix="NCN",
        states=("issued", "acknowledged"),
        transitions=(
            Transition(
                "issue", (None,), "issued", Permission.OPEN_NONCONFORMITIES, starts=(COMPLETION,)
            ),
            Transition(
                "acknowledge",
                ("issued",),
                "acknowledged",
                Permission.HANDLE_NONCONFORMITIES,
                party="assignee_id",
                stops=(COMPLETION,),
            ),
            Transition(
                "reassign",
                ("issued",),
                KEEP,
                Permission.VERIFY_NONCONFORMITIES,
                party="opened_by_id",
                todo=False,
            ),
        ),
        clocks=(ClockSpec(COMPLETION),),
    )
)

NC_HANDLING = register(
    DocumentType(
        name="nonconformity_handling",
        model=NonconformityHandling,
        number_prefix="NCH",
        states=("assigned", "handled", "verified"),
        transitions=(
            Transition(
                "assign",
                (None,),
                "assigned",
                Permission.OPEN_NONCONFORMITIES,
                starts=(COMPLETION,),
            ),
            Transition(
                "handle",
                ("assigned",),
                "handled",
                Permission.HANDLE_NONCONFORMITIES,
                party="assignee_id",
            ),
            Transition(
                "verify",
                ("handled",),
                "verified",
                Permission.VERIFY_NONCONFORMITIES,
                party="opened_by_id",
                stops=(COMPLETION,),
            ),
            # Not good enough: back to whoever handled it (the clock keeps running).
            Transition(
                "send_back",
                ("handled",),
                "assigned",
                Permission.VERIFY_NONCONFORMITIES,
                party="opened_by_id",
            ),
            Transition(
                "reassign",
                ("assigned",),
                KEEP,
                Permission.VERIFY_NONCONFORMITIES,
                party="opened_by_id",
                todo=False,
            ),
        ),
        clocks=(ClockSpec(COMPLETION),),
    )
)

_CAPA_STATES = ("opened", "cause_found", "corrected", "prevented", "verified")

NC_CORRECTIVE = register(
    DocumentType(
        name="nonconformity_corrective",
        model=NonconformityCorrective,
        number_prefix="NCP",
        states=_CAPA_STATES,
        transitions=(
            Transition(
                "open", (None,), "opened", Permission.OPEN_NONCONFORMITIES, starts=(COMPLETION,)
            ),
            # 原因分析 → 纠正措施 → 预防措施, by the assignee; 验证 by whoever opened it.
            Transition(
                "find_cause",
                ("opened",),
                "cause_found",
                Permission.HANDLE_NONCONFORMITIES,
                party="assignee_id",
            ),
            Transition(
                "correct",
                ("cause_found",),
                "corrected",
                Permission.HANDLE_NONCONFORMITIES,
                party="assignee_id",
            ),
            Transition(
                "prevent",
                ("corrected",),
                "prevented",
                Permission.HANDLE_NONCONFORMITIES,
                party="assignee_id",
            ),
            Transition(
                "verify",
                ("prevented",),
                "verified",
                Permission.VERIFY_NONCONFORMITIES,
                party="opened_by_id",
                stops=(COMPLETION,),
            ),
            Transition(
                "send_back",
                ("prevented",),
                "cause_found",
                Permission.VERIFY_NONCONFORMITIES,
                party="opened_by_id",
            ),
            Transition(
                "reassign",
                ("opened", "cause_found", "corrected"),
                KEEP,
                Permission.VERIFY_NONCONFORMITIES,
                party="opened_by_id",
                todo=False,
            ),
        ),
        clocks=(ClockSpec(COMPLETION),),
    )
)

NC_TYPES = {"notice": NC_NOTICE, "handling": NC_HANDLING, "corrective_preventive": NC_CORRECTIVE}
"""The document type of each nonconformity kind."""
