"""Lock kinds never share a hash space (issue 11, item 7)."""

from services.runtime.locks import LockNamespace


def test_every_lock_kind_has_its_own_namespace() -> None:
    ids = [kind.value for kind in LockNamespace]
    assert len(set(ids)) == len(ids)
    assert {"PATIENT", "RELAY", "MIGRATION", "CLINIC"} <= LockNamespace.__members__.keys()


def test_namespaces_fit_the_first_key_of_a_two_key_advisory_lock() -> None:
    assert all(-(2**31) <= kind.value < 2**31 for kind in LockNamespace)
