"""The fault suite's invariant catches what it claims to catch (pure: no broker, no database).

A check that passes on anything proves nothing, so each one is shown a run as CONTRACT.md
wants it (no problem) and the same run with one thing wrong (exactly that problem).
"""

import json
from types import SimpleNamespace

from services.runtime.topics import RunTopics
from tests.faults.outcome import Outcome, dead_letters_exact, delivered_once_per_key
from tests.faults.run import PeerLog, Sent
from tests.faults.workload import DEAD_LETTER_CUT_BYTES, poison

TOPICS = RunTopics.under("faults.check")
POISON = [
    Sent(poison(kind, "F-x-1", 0, other="F-x-2"), 0, offset)
    for offset, kind in enumerate(("near_limit", "no_key", "nul_in_key", "key_not_subject"))
]


def dead_letter(sent: Sent, consumer: str, *, whole: bool = False) -> SimpleNamespace:
    message = sent.message
    headers = [
        ("x-error", b"why"), ("x-consumer", consumer.encode()),
        ("x-source-topic", TOPICS.patient_events.encode()),
        ("x-source-partition", str(sent.partition).encode()),
        ("x-source-offset", str(sent.offset).encode()),
    ]  # fmt: skip
    value = message.value
    if message.truncated_when_dead and not whole:
        value = value[:DEAD_LETTER_CUT_BYTES]
        headers += [("x-truncated", b"true"), ("x-original-size", str(len(message.value)).encode())]
    return SimpleNamespace(key=message.key, value=value, headers=headers)


def judged(dead_letters: list[SimpleNamespace]) -> list[str]:
    run = Outcome()
    run.dead_letters = dead_letters
    return dead_letters_exact(run, POISON, TOPICS)


def as_the_contract_says() -> list[SimpleNamespace]:
    return [dead_letter(s, c) for s in POISON for c in ("eligibility", "planner")]


def test_dead_letters_as_the_contract_says_pass() -> None:
    assert judged(as_the_contract_says()) == []


def test_a_near_limit_record_dead_lettered_whole_is_caught() -> None:
    letters = as_the_contract_says()
    letters[0] = dead_letter(POISON[0], "eligibility", whole=True)
    problems = judged(letters)
    assert len(problems) == 3, problems  # value, x-truncated, x-original-size
    assert all("near_limit" in p and "by eligibility" in p for p in problems)


def test_a_missing_dead_letter_and_one_of_a_valid_event_are_caught() -> None:
    letters = as_the_contract_says()[1:]
    stray = SimpleNamespace(key=b"F-x-1", value=b"{}", headers=[
        ("x-consumer", b"planner"), ("x-source-topic", TOPICS.eligibility.encode()),
        ("x-source-partition", b"1"), ("x-source-offset", b"5"),
    ])  # fmt: skip
    problems = judged([*letters, stray])
    assert problems == [
        f"dead letter of a valid event: planner {TOPICS.eligibility} (1, 5): None",
        "poison:near_limit at (0, 0) (key b'F-x-1') not dead-lettered by eligibility",
    ]


def notices(*spec: tuple[str, str, str]) -> Outcome:
    run = Outcome()
    for notice_id, channel, delivery in spec:
        data = {"notice_id": notice_id, "channel": channel, "delivery": delivery}
        run.notices[f"notice:{notice_id}"] = [json.dumps({"data": data}).encode()]
    return run


def test_re_sends_under_one_key_are_absorbed() -> None:
    run = notices(("a", "webhook", "delivered"), ("b", "email", "delivered"))
    peers = PeerLog(["a", "a"], {"a"}, 0, ["b", "b"])
    assert delivered_once_per_key(run, peers) == []
    assert run.counts["webhook re-sends absorbed (same key)"] == 1
    assert run.counts["mail re-sends absorbed (same key)"] == 1


def test_a_lost_a_second_key_and_a_failed_notice_are_caught() -> None:
    run = notices(("a", "webhook", "delivered"), ("b", "email", "delivered"),
                  ("c", "email", "failed"))  # fmt: skip
    problems = delivered_once_per_key(run, PeerLog(["z"], {"z"}, 0, ["b", "b2"]))
    assert problems == [
        "notice c (email) published as failed though its peer accepts everything",
        "webhook notice a published as delivered, never received",
        "webhook peer got key z, which no notice published as delivered has",
        "email peer got key b2, which no notice published as delivered has",
    ]
