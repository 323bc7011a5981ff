"""Each service's Kafka ACLs: read its inputs, write only its own output and dead letters."""

from services.runtime.settings import ServiceSettings
from services.stack.acls import Acl, Operation, Resource, operator_acls, service_acls

SETTINGS = ServiceSettings()


def topics_with(acls: list[Acl], operation: Operation) -> set[str]:
    return {a.name for a in acls if a.resource is Resource.TOPIC and a.operation is operation}


def test_each_service_writes_only_its_own_output_and_the_dead_letters() -> None:
    s = SETTINGS
    expected = {"eligibility": s.topic_eligibility, "planner": s.topic_schedule,
                "notifier": s.topic_notices}  # fmt: skip
    own = {"planner": {s.topic_planner_commands}}  # the planner's commands to itself
    for service, output in expected.items():
        acls = service_acls(service, s, group=service)
        written = {output, s.topic_dead_letters, *own.get(service, ())}
        assert topics_with(acls, Operation.WRITE) == written
        assert topics_with(acls, Operation.CREATE) == written


def test_each_service_reads_its_inputs_in_its_own_group() -> None:
    s = SETTINGS
    expected = {"eligibility": {s.topic_patient_events},
                "planner": {s.topic_patient_events, s.topic_eligibility, s.topic_staff_events,
                            s.topic_planner_commands},
                "notifier": {s.topic_eligibility, s.topic_schedule}}  # fmt: skip
    for service, inputs in expected.items():
        acls = service_acls(service, s, group=f"{service}-group")
        assert topics_with(acls, Operation.READ) == inputs
        assert [a.name for a in acls if a.resource is Resource.GROUP] == [f"{service}-group"]


def test_renamed_topics_keep_their_rights() -> None:
    renamed = ServiceSettings(topic_eligibility="elig-x", topic_dead_letters="dead-x")
    acls = service_acls("eligibility", renamed, group="eligibility")
    assert topics_with(acls, Operation.WRITE) == {"elig-x", "dead-x"}


def test_operators_read_dead_letters_and_write_only_inputs() -> None:
    s = SETTINGS
    acls = operator_acls(s)
    written = {s.topic_patient_events, s.topic_eligibility, s.topic_schedule,
               s.topic_staff_events, s.topic_planner_commands}  # fmt: skip
    assert topics_with(acls, Operation.WRITE) == written
    assert s.topic_dead_letters in topics_with(acls, Operation.READ)
    assert s.topic_notices not in topics_with(acls, Operation.WRITE)
