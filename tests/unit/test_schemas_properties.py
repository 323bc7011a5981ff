"""Properties: parse(to_bytes(e)) == e, and no input ever escapes as anything but InvalidEvent."""

import json
import string
from datetime import timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from schemas import codec
from schemas.clinic import CoursePrescribed, CoursePrescribedData
from schemas.eligibility import Block, EligibilityDecided, EligibilityDecidedData
from schemas.examples import EXAMPLES
from schemas.rules import RuleId
from schemas.schedule import CourseRescheduled, CourseRescheduledData, PlannedSession, SessionChange

ids = st.text(string.ascii_letters + string.digits + "-_:.é ", min_size=1, max_size=40)
subjects = st.from_regex(r"\A[A-Za-z0-9._-]{1,64}\Z")
offsets = st.integers(-18 * 60, 18 * 60).map(lambda m: timezone(timedelta(minutes=m)))
timestamps = st.datetimes(timezones=offsets)
maybe_timestamps = st.none() | timestamps
dates = st.dates()
rules = st.lists(st.sampled_from(RuleId), unique=True, max_size=4)


def envelope(data):
    return st.fixed_dictionaries(
        {
            "source": st.sampled_from(["/clinics/north/emr", "urn:clinic:x", "https://a.b/c?d=1"]),
            "subject": subjects,
            "data": data,
            "time": timestamps,
            "id": st.none() | ids,
            "causationid": st.none() | ids,
            "correlationid": st.none() | ids,
        }
    )


prescriptions = envelope(
    st.builds(
        CoursePrescribedData,
        course_id=ids,
        sessions=st.integers(15, 20),
        cadence=st.sampled_from(["daily", "every_other_day"]),
        start_on=dates,
        preferred_time=st.none() | st.from_regex(r"\A([01][0-9]|2[0-3]):[0-5][0-9]\Z"),
    )
)
decisions = envelope(
    st.builds(
        EligibilityDecidedData,
        eligible=st.booleans(),
        eligible_from=st.none() | dates,
        blocks=st.lists(
            st.builds(Block, rule=st.sampled_from(RuleId), since=dates, until=st.none() | dates)
        ),
        restrictions=st.lists(
            st.sampled_from(["no_direct_knee_work", "hemodynamic_techniques", "in_water"]),
            unique=True,
        ),
        version=st.integers(1, 2**53),
    )
)
sessions = st.builds(
    PlannedSession,
    session_id=ids,
    number=st.integers(1, 40),
    on=dates,
    starts_at=maybe_timestamps,
    duration_min=st.integers(7, 15),
    notes=st.lists(
        st.sampled_from([RuleId.NO_KNEE_WHEN_PAINFUL, RuleId.HEMODYNAMICS, RuleId.IN_WATER]),
        unique=True,
    ),
)
reschedules = envelope(
    st.builds(
        CourseRescheduledData,
        course_id=ids,
        status=st.sampled_from(["pending", "active", "suspended"]),
        version=st.integers(1, 10_000),
        rules=rules,
        sessions=st.lists(sessions, max_size=20),
        completed_sessions=st.integers(0, 20),
        changes=st.lists(
            st.builds(
                SessionChange,
                session_id=ids,
                from_on=dates,
                to_on=dates,
                from_starts_at=maybe_timestamps,
                to_starts_at=maybe_timestamps,
            ),
            max_size=5,
        ),
    )
)


def parse_or_error(raw: bytes) -> codec.AnyEvent | codec.InvalidEvent:
    try:
        return codec.parse_event(raw)
    except codec.InvalidEvent as error:
        return error


@given(
    st.one_of(
        prescriptions.map(lambda kw: (CoursePrescribed, kw)),
        decisions.map(lambda kw: (EligibilityDecided, kw)),
        reschedules.map(lambda kw: (CourseRescheduled, kw)),
    )
)
def test_parse_of_to_bytes_gives_the_same_event(case):
    event_cls, arguments = case
    event = codec.new_event(event_cls, **arguments)

    raw = codec.to_bytes(event)

    assert codec.parse_event(raw) == event
    assert codec.to_bytes(codec.parse_event(raw)) == raw


@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_an_event_or_invalid_event(raw):
    outcome = parse_or_error(raw)

    if isinstance(outcome, codec.InvalidEvent):
        assert "\n" not in outcome.reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@given(
    event_type=st.sampled_from(sorted(EXAMPLES)),
    where=st.sampled_from(["envelope", "data"]),
    key=st.text(max_size=12),
    value=json_values,
)
def test_any_change_to_a_valid_event_is_accepted_or_rejected_with_invalid_event(
    event_type, where, key, value
):
    document = json.loads(json.dumps(EXAMPLES[event_type]))
    target = document if where == "envelope" else document["data"]
    target[sorted(target)[len(key) % len(target)] if key.isdigit() else key] = value

    outcome = parse_or_error(json.dumps(document).encode())

    if isinstance(outcome, codec.InvalidEvent):
        assert "\n" not in outcome.reason
    else:
        assert codec.parse_event(codec.to_bytes(outcome)) == outcome
