"""Which dead letters a replay sends: once per original record, only to a known topic."""

from services.ops.deadletters import DeadLetter, plan_replay


def letter(offset: int, source: str | None, original: int, consumer: str = "planner") -> DeadLetter:
    headers = {"x-consumer": consumer, "x-source-partition": "0", "x-source-offset": str(original)}
    if source is not None:
        headers["x-source-topic"] = source
    return DeadLetter(0, offset, b"P-1", b"{}", headers)


def test_two_letters_of_one_original_record_are_replayed_once() -> None:
    letters = [
        letter(0, "clinic", 7, "eligibility"),
        letter(1, "clinic", 7),
        letter(2, "clinic", 8),
    ]
    plan = plan_replay(letters, replayed=set(), topics={"clinic"})
    assert [d.offset for d in plan.send] == [0, 2]
    assert [d.offset for d in plan.already] == [1]


def test_a_record_replayed_before_is_skipped() -> None:
    plan = plan_replay([letter(0, "clinic", 7)], replayed={"clinic/0@7"}, topics={"clinic"})
    assert (plan.send, len(plan.already)) == ([], 1)


def test_the_same_offset_of_another_topic_is_another_record() -> None:
    plan = plan_replay([letter(0, "staff", 7)], replayed={"clinic/0@7"}, topics={"clinic", "staff"})
    assert [d.origin for d in plan.send] == ["staff/0@7"]


def test_no_or_an_unknown_source_topic_is_refused_with_its_reason() -> None:
    plan = plan_replay([letter(0, None, 1), letter(1, "gone", 2)], replayed=set(), topics={"x"})
    assert [(d.offset, why) for d, why in plan.refused] == [
        (0, "the dead letter names no source topic (x-source-topic)"),
        (1, "unknown source topic gone"),
    ]
    assert plan.send == []
