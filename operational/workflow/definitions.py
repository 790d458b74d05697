"""The document types of maintenance control, as data for the engine.

Later documents (inspections, repairs, complaints, …) add their own :class:`DocumentType` here.
"""

from __future__ import annotations

from operational.auth import Permission
from operational.models import CorrectiveOrder, PeriodicOrder, PeriodicPlan
from operational.workflow.engine import ClockSpec, DocumentType, Transition, register

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
