"""What a run published, reduced to what must not depend on faults, and the invariants.

The published topics are read (by patient key); of a service's tables only the planner's
bookings, which must agree with the placements published.
"""

import json
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from services.runtime.topics import RunTopics
from tests.faults.run import PeerLog, Sent
from tests.faults.workload import DEAD_LETTER_CUT_BYTES

CONSUMERS_OF_CLINIC_EVENTS = ("eligibility", "planner")
CONSUMERS_OF_STAFF_EVENTS = ("planner",)
PLAN = ("status", "sessions", "completed_sessions")
# With a roster, which patient gets a contested slot depends on arrival order (DOMAIN.md),
# and so do a session's day, start and therapist; what the planner's core decides does not:
# the course's status, its sessions (ids, numbers, ramp durations, notes), completed ones.
PLAN_WITHOUT_PLACES = ("status", "ramp", "completed_sessions")
CAPACITY_RULES = ("R-THERAPIST-ABSENT", "R-CAPACITY", "R-ROSTER")  # counted, to see them at work


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
    def of(cls, records: dict[str, list[Any]], topics: RunTopics) -> "Outcome":
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
            out.counts.update(
                f"schedule events naming {rule}"
                for rule in set(data.get("rules", ())) & set(CAPACITY_RULES)
            )
            out.plans[data["course_id"]] = {
                "status": data["status"],
                "sessions": [
                    (s["on"], s["starts_at"], s["duration_min"], s["notes"])
                    for s in data["sessions"]
                ],
                "ramp": [
                    (s["session_id"], s["number"], s["duration_min"], s["notes"])
                    for s in data["sessions"]
                ],
                "completed_sessions": data["completed_sessions"],
                "patient": r.key.decode(),
                "placed": data["sessions"],  # as published: days, starts and therapists
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


def same_plans(
    base: Outcome,
    run: Outcome,
    *,
    fields: Iterable[str] = PLAN,
    patients: Collection[str] | None = None,
) -> list[str]:
    """The latest plan of every course (of `patients` only, when given) equal in `fields`."""
    keep = tuple(fields)

    def part(plans: dict[str, dict[str, Any]], course: str) -> dict[str, Any] | None:
        plan = plans.get(course)
        if plan is None:
            return None
        # The latest schedule event of a course carries its current status (issue 12): a
        # dated pending course is no longer "the same" as an active one.
        return {k: plan[k] for k in keep}

    courses = sorted({
        c for outcome in (base, run) for c, plan in outcome.plans.items()
        if patients is None or plan["patient"] in patients
    })  # fmt: skip
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


def dead_letters_exact(run: Outcome, poison: list[Sent], topics: RunTopics) -> list[str]:
    """Each poison message, by its topic and position, dead-lettered by each consumer of its
    topic (clinic events: eligibility and planner; staff events: the planner) as CONTRACT.md
    says (original key and bytes; a record too large to dead-letter whole cut to its first
    64 KiB with `x-truncated` and `x-original-size`), and nothing else ever dead-lettered: a
    dead letter of a valid event is an effect lost."""
    expected = {(_topic(s, topics), s.partition, s.offset): s for s in poison}
    copies: defaultdict[tuple[str, str, int, int], list[Any]] = defaultdict(list)
    problems = []
    for r in run.dead_letters:
        consumer = _header(r, "x-consumer")
        where = (_header(r, "x-source-topic") or "?",
                 int(_header(r, "x-source-partition") or -1),
                 int(_header(r, "x-source-offset") or -1))  # fmt: skip
        if where not in expected:
            problems.append(f"dead letter of a valid event: {consumer} {where[0]} {where[1:]}: "
                            f"{_header(r, 'x-error')}")  # fmt: skip
            continue
        copies[consumer or "?", *where].append(r)
    for sent in poison:
        where = (_topic(sent, topics), sent.partition, sent.offset)
        name = f"{sent.message.kind} at {where[1:]} (key {sent.message.key!r})"
        consumers = CONSUMERS_OF_STAFF_EVENTS if sent.message.staff else CONSUMERS_OF_CLINIC_EVENTS
        for consumer in consumers:
            got = copies[consumer, *where]
            if not got:
                problems.append(f"{name} not dead-lettered by {consumer}")
                continue
            problems += [f"{name} by {consumer}: {p}" for p in _unlike_contract(sent, got[0])]
            if any(_content(c) != _content(got[0]) for c in got[1:]):
                problems.append(f"{name} dead-lettered by {consumer} with different contents")
    run.counts["dead letters of poison"] = sum(len(c) for c in copies.values())
    run.counts["dead letters republished (same content)"] = sum(
        len(c) - 1 for c in copies.values() if c
    )
    run.counts["dead letters of valid events"] = len(run.dead_letters) - sum(
        len(c) for c in copies.values()
    )
    return problems


def _topic(sent: Sent, topics: RunTopics) -> str:
    return topics.staff_events if sent.message.staff else topics.patient_events


def _content(record: Any) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    headers = sorted((k, bytes(v)) for k, v in record.headers or ())
    return record.key, bytes(record.value), headers


def _unlike_contract(sent: Sent, record: Any) -> list[str]:
    message = sent.message
    problems = []
    if record.key != message.key:
        problems.append(f"key {record.key!r} is not the original's")
    if message.truncated_when_dead:
        if bytes(record.value) != message.value[:DEAD_LETTER_CUT_BYTES]:
            problems.append(f"value of {len(record.value)} bytes is not the original's first "
                            f"{DEAD_LETTER_CUT_BYTES}")  # fmt: skip
        if _header(record, "x-truncated") != "true":
            problems.append("no header x-truncated: true")
        if _header(record, "x-original-size") != str(len(message.value)):
            problems.append(f"x-original-size {_header(record, 'x-original-size')} is not "
                            f"{len(message.value)}")  # fmt: skip
    elif bytes(record.value) != message.value:
        problems.append("dead letter bytes differ from the original")
    return problems


def delivered_once_per_key(run: Outcome, peers: PeerLog) -> list[str]:
    """Every notice published as delivered reached its peer under its idempotency key (the
    notice id), and each peer saw exactly the keys of those notices: never a second key for
    one notice, never a key of a notice not published as delivered. A peer seeing one key
    several times is the at-least-once re-send it absorbs (counted, not a fault)."""
    delivered: dict[str, set[str]] = {"webhook": set(), "email": set()}
    problems = []
    for copies in run.notices.values():
        data = json.loads(copies[0])["data"]
        if data["delivery"] != "delivered":
            problems.append(f"notice {data['notice_id']} ({data['channel']}) published as "
                            f"{data['delivery']} though its peer accepts everything")  # fmt: skip
        elif data["channel"] in delivered:
            delivered[data["channel"]].add(data["notice_id"])
    received = {"webhook": peers.webhook_accepted, "email": set(peers.mail_keys)}
    for channel, ids in delivered.items():
        problems += [f"{channel} notice {key} published as delivered, never received"
                     for key in sorted(ids - received[channel])]  # fmt: skip
        problems += [f"{channel} peer got key {key}, which no notice published as delivered has"
                     for key in sorted(received[channel] - ids)]  # fmt: skip
    if peers.webhook_bad_signatures:
        problems.append(f"webhook peer rejected {peers.webhook_bad_signatures} bad signatures")
    run.counts.update({
        "webhook notices received (distinct keys)": len(peers.webhook_accepted),
        "webhook re-sends absorbed (same key)": (
            len(peers.webhook_requests) - len(set(peers.webhook_requests))
        ),
        "mails received (distinct keys)": len(set(peers.mail_keys)),
        "mail re-sends absorbed (same key)": len(peers.mail_keys) - len(set(peers.mail_keys)),
    })  # fmt: skip
    return problems
