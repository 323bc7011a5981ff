"""One valid wire example per event type: documentation, demo traffic and tests use them."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

_PATIENT = "P-000123"
_COURSE = "C-2026-0042"
_THERAPIST = "T-07"


def _event(
    event_type: str, source: str, data: dict[str, Any], subject: str = _PATIENT, **extra: str
) -> dict[str, Any]:
    suffix = event_type.rsplit(".", 2)[-2:]
    return {
        "specversion": "1.0",
        "id": f"ex-{'-'.join(suffix).replace('_', '-')}-1",
        "source": source,
        "type": event_type,
        "time": "2026-11-20T09:12:00+03:00",
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
        **extra,
    }


def _clinic(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return _event(event_type, "/clinics/north/emr", data, correlationid="corr-1")


def _staff(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return _event(
        event_type,
        "/clinics/north/roster",
        {"clinic_id": "north", "therapist_id": _THERAPIST, **data},
        subject=_THERAPIST,
        correlationid="corr-roster-1",
    )


def _course(status: str, rules: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "course_id": _COURSE,
        "status": status,
        "version": 2,
        "rules": rules,
        "sessions": [
            {
                "session_id": f"{_COURSE}-s7",
                "number": 7,
                "on": "2026-11-23",
                "starts_at": "2026-11-23T10:18:00+03:00",
                "duration_min": 12,
                "notes": ["R-NO-KNEE-WHEN-PAINFUL"],
                "therapist_id": _THERAPIST,
            },
            {
                "session_id": f"{_COURSE}-s8",
                "number": 8,
                "on": "2026-11-25",
                "starts_at": None,
                "duration_min": 13,
                "notes": [],
                "therapist_id": None,
            },
        ],
        "completed_sessions": 6,
        **extra,
    }


def _schedule(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return _event(
        event_type, "/courseflow/planner", data, correlationid="corr-1", causationid="ex-cause-1"
    )


_ALL = (
    _clinic(
        "clinic.patient.enrolled",
        {
            "clinic_id": "north",
            "arthrosis_stage": 2,
            "affected_knees": ["right"],
            "rheumatic_inflammation": False,
            "impaired_limb_blood_supply": False,
            "knee_painful_on_palpation": True,
            "severe_swelling": False,
        },
    ),
    _clinic(
        "clinic.course.prescribed",
        {
            "course_id": _COURSE,
            "sessions": 15,
            "cadence": "every_other_day",
            "start_on": "2026-11-23",
            "preferred_time": "10:00",
        },
    ),
    _clinic("clinic.flare.reported", {"started_on": "2026-11-20", "rheumatic": False}),
    _clinic("clinic.remission.confirmed", {"exacerbation_ended_on": "2026-11-30"}),
    _clinic(
        "clinic.contraindication.reported",
        {"kind": "fever", "observed_on": "2026-11-20", "body_temperature_c": 38.2},
    ),
    _clinic("clinic.contraindication.resolved", {"kind": "fever", "resolved_on": "2026-11-23"}),
    _clinic(
        "clinic.surgery.performed",
        {"procedure": "knee_endoprosthesis", "knee": "right", "performed_on": "2026-11-20"},
    ),
    _clinic("clinic.rehab.massage_cleared", {"cleared_on": "2026-11-25"}),
    _clinic(
        "clinic.physical_therapy.booked",
        {"appointment_id": "PT-77", "starts_at": "2026-11-23T10:30:00+03:00"},
    ),
    _clinic(
        "clinic.session.completed",
        {
            "course_id": _COURSE,
            "session_id": f"{_COURSE}-s6",
            "performed_at": "2026-11-20T10:18:00+03:00",
        },
    ),
    _clinic(
        "clinic.session.not_performed",
        {"course_id": _COURSE, "session_id": f"{_COURSE}-s7", "reason": "severe_pain"},
    ),
    _clinic("clinic.patient.withdrawn", {"reason": "moved to another clinic"}),
    _staff(
        "clinic.therapist.rostered",
        {
            "weekly_hours": [
                {"weekday": 0, "from": "08:00", "to": "12:00"},
                {"weekday": 0, "from": "13:00", "to": "17:00"},
                {"weekday": 2, "from": "10:00", "to": "18:30"},
            ],
            "effective_from": "2026-11-23",
        },
    ),
    _staff(
        "clinic.therapist.absent",
        {"from_on": "2026-11-25", "to_on": "2026-11-27", "reason": "training"},
    ),
    _staff("clinic.therapist.left", {"last_day": "2026-12-31"}),
    _event(
        "courseflow.eligibility.decided",
        "/courseflow/eligibility",
        {
            "eligible": False,
            "eligible_from": None,
            "blocks": [{"rule": "R-FLARE", "since": "2026-11-20", "until": None}],
            "restrictions": ["no_direct_knee_work"],
            "version": 3,
            "history": [{"rule": "R-CONTRA-FEVER", "since": "2026-10-02", "until": "2026-10-06"}],
        },
        correlationid="corr-1",
        causationid="ex-flare-reported-1",
    ),
    _schedule(
        "courseflow.course.scheduled",
        _course("active", ["R-CADENCE", "R-DURATION-RAMP", "R-NO-KNEE-WHEN-PAINFUL"]),
    ),
    _schedule(
        "courseflow.course.suspended",
        _course(
            "suspended",
            ["R-FLARE"],
            sessions=[],
            cancelled_session_ids=[f"{_COURSE}-s7", f"{_COURSE}-s8"],
        ),
    ),
    _schedule("courseflow.course.resumed", _course("active", ["R-REMISSION", "R-DURATION-RAMP"])),
    _schedule(
        "courseflow.course.rescheduled",
        _course(
            "active",
            ["R-PT-BEFORE"],
            changes=[
                {
                    "session_id": f"{_COURSE}-s7",
                    "from_on": "2026-11-23",
                    "to_on": "2026-11-23",
                    "from_starts_at": "2026-11-23T10:00:00+03:00",
                    "to_starts_at": "2026-11-23T10:18:00+03:00",
                    "from_therapist_id": "T-03",
                    "to_therapist_id": _THERAPIST,
                }
            ],
        ),
    ),
    _schedule(
        "courseflow.course.completed",
        _course(
            "completed",
            ["R-COURSE-BREAK", "R-COURSES-PER-YEAR"],
            sessions=[],
            completed_sessions=15,
            next_course_earliest_on="2027-01-11",
            next_course_due_by="2027-05-23",
        ),
    ),
    _schedule(
        "courseflow.course.cancelled",
        _course("cancelled", ["R-POSTOP"], sessions=[], reason="surgery"),
    ),
    _schedule(
        "courseflow.course.next_due",
        _course(
            "completed",
            ["R-COURSES-PER-YEAR"],
            sessions=[],
            completed_sessions=15,
            next_course_earliest_on="2027-01-11",
            next_course_due_by="2027-05-23",
        ),
    ),
    _schedule(
        "courseflow.course.review_requested",
        _course("active", ["R-SESSION-PAIN"], session_ids=[f"{_COURSE}-s4", f"{_COURSE}-s5"]),
    ),
    _event(
        "courseflow.notice.issued",
        "/courseflow/notifier",
        {
            "notice_id": "N-1",
            "kind": "course_suspended",
            "audience": "staff",
            "channel": "log",
            "recipient": "therapists",
            "summary": "Patient P-000123: course C-2026-0042 suspended (R-FLARE)",
            "rules": ["R-FLARE"],
            "cause_id": "ex-course-suspended-1",
            "delivery": "delivered",
            "attempts": 1,
        },
        correlationid="corr-1",
        causationid="ex-course-suspended-1",
    ),
)

EXAMPLES: Mapping[str, Mapping[str, Any]] = MappingProxyType({e["type"]: e for e in _ALL})
"""Event type -> a valid event as JSON-compatible Python data."""
