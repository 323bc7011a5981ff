"""What a run published, reduced to what must not depend on faults, and the invariants.

Only the published topics are read (by patient key), never a service's tables.
"""

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.faults.run import Sent, Topics

CONSUMERS_OF_CLINIC_EVENTS = ("eligibility", "planner")
PLAN = ("status", "sessions", "completed_sessions")


def _header(record: Any, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode()
    return None


@dataclass
class Outcome:
    decisions: dict[str, dict[str, Any]] = field(default_factory=dict)  # patient → last data
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # course → last plan
    notices: dict[str, list[bytes]] = field(default_factory=dict)  # event id → each copy
    schedule_ids: set[str] = field(default_factory=set)
    eligibility_ids: set[str] = field(default_factory=set)
    republished: Counter[str] = field(default_factory=Counter)  # topic → extra copies of an id
    dead_letters: list[Any] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, records: dict[str, list[Any]], topics: Topics) -> "Outcome":
        out = cls()
        for topic in (topics.eligibility, topics.schedule, topics.notices):
            seen: Counter[str] = Counter(json.loads(r.value)["id"] for r in records[topic])
            out.republished[topic] = sum(n - 1 for n in seen.values())
        for r in records[topics.eligibility]:
            out.eligibility_ids.add(json.loads(r.value)["id"])
            data = dict(json.loads(r.value)["data"])
            data.pop("version")
            out.decisions[r.key.decode()] = data
        for r in records[topics.schedule]:
            event = json.loads(r.value)
            out.schedule_ids.add(event["id"])
            data = event["data"]
            out.plans[data["course_id"]] = {
                "status": data["status"],
                "sessions": [
                    (s["on"], s["starts_at"], s["duration_min"], s["notes"])
                    for s in data["sessions"]
                ],
                "completed_sessions": data["completed_sessions"],
            }
        for r in records[topics.notices]:
            out.notices.setdefault(json.loads(r.value)["id"], []).append(bytes(r.value))
        out.dead_letters = records[topics.dead_letters]
        out.counts.update({
            "eligibility decisions": len(records[topics.eligibility]),
            "schedule events": len(records[topics.schedule]),
            "notices": len(records[topics.notices]),
            "distinct notices": len(out.notices),
            "dead letters": len(out.dead_letters),
        })  # fmt: skip
        return out


def same_decisions(base: Outcome, run: Outcome) -> list[str]:
    patients = sorted(set(base.decisions) | set(run.decisions))
    return [
        f"decision of {p}: baseline {base.decisions.get(p)} != faulted {run.decisions.get(p)}"
        for p in patients
        if base.decisions.get(p) != run.decisions.get(p)
    ]


def same_plans(base: Outcome, run: Outcome, *, fields: Iterable[str] = PLAN) -> list[str]:
    keep = tuple(fields)

    def part(plans: dict[str, dict[str, Any]], course: str) -> dict[str, Any] | None:
        plan = plans.get(course)
        if plan is None:
            return None
        kept = {k: plan[k] for k in keep}
        if kept.get("status") == "pending" and plan["sessions"]:
            # A dated pending course turns active on its known day without a new event
            # (DOMAIN.md: "when the day comes, nothing needs to change"): the same state.
            kept["status"] = "active"
        return kept

    courses = sorted(set(base.plans) | set(run.plans))
    return [
        f"plan of {c}: baseline {part(base.plans, c)} != faulted {part(run.plans, c)}"
        for c in courses
        if part(base.plans, c) != part(run.plans, c)
    ]


def every_cause_noticed(run: Outcome) -> list[str]:
    """Nothing lost: every schedule event published has its notice (without coalescing the
    notifier announces each one), and every notice names a cause that was published."""
    causes = {json.loads(c[0])["data"]["cause_id"] for c in run.notices.values()}
    missing = sorted(run.schedule_ids - causes)
    phantom = sorted(causes - run.schedule_ids - run.eligibility_ids)
    return [f"schedule event {c} has no notice" for c in missing] + [
        f"notice for an unpublished cause {c}" for c in phantom
    ]


def one_notice_per_cause(run: Outcome) -> list[str]:
    """Exactly one notice per cause, kind and recipient; an id never carries two contents."""
    problems = []
    per_cause: defaultdict[tuple[str, str, str], set[str]] = defaultdict(set)
    per_cause_recipient: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for event_id, copies in run.notices.items():
        contents = {json.dumps(json.loads(c), sort_keys=True) for c in copies}
        if len(contents) > 1:
            problems.append(f"notice {event_id} published with {len(contents)} contents")
        data = json.loads(copies[0])["data"]
        per_cause[data["cause_id"], data["kind"], data["recipient"]].add(event_id)
        per_cause_recipient[data["cause_id"], data["recipient"]].add(event_id)
    problems += [
        f"{len(ids)} notices for cause {cause} kind {kind} recipient {recipient}"
        for (cause, kind, recipient), ids in per_cause.items()
        if len(ids) != 1
    ]
    run.counts["causes with a notice"] = len({c for c, _ in per_cause_recipient})
    run.counts["causes with several kinds for one recipient"] = sum(
        len(ids) > 1 for ids in per_cause_recipient.values()
    )
    run.counts["notice copies absorbed (same id, same content)"] = sum(
        len(copies) - 1 for copies in run.notices.values()
    )
    return problems


def poison_dead_lettered(run: Outcome, poison: list[Sent], topics: Topics) -> list[str]:
    """Each poison message, by its position and bytes, dead-lettered by each consumer."""
    found: Counter[tuple[str, int, int]] = Counter()
    values: dict[tuple[int, int], bytes] = {}
    for r in run.dead_letters:
        if _header(r, "x-source-topic") != topics.patient_events:
            continue
        partition = int(_header(r, "x-source-partition") or -1)
        offset = int(_header(r, "x-source-offset") or -1)
        found[_header(r, "x-consumer") or "?", partition, offset] += 1
        values[partition, offset] = bytes(r.value)
    problems = []
    for sent in poison:
        where = (sent.partition, sent.offset)
        problems += [
            f"{sent.message.kind} at {where} not dead-lettered by {consumer}"
            for consumer in CONSUMERS_OF_CLINIC_EVENTS
            if not found[consumer, *where]
        ]
        if where in values and values[where] != sent.message.value:
            problems.append(f"{sent.message.kind} at {where}: dead letter bytes differ")
    positions = {(s.partition, s.offset) for s in poison}
    run.counts["dead letters of poison"] = sum(
        n for (_, p, o), n in found.items() if (p, o) in positions
    )
    run.counts["dead letters published twice"] = sum(n - 1 for n in found.values())
    run.counts["dead letters of valid events"] = sum(
        n for (_, p, o), n in found.items() if (p, o) not in positions
    )
    return problems
