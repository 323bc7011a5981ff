"""Routing files on disk: JSON or YAML, and a clear error for each way a file can be bad."""

import base64
from pathlib import Path

import pytest

from services.notifier.kinds import Kind
from services.notifier.routing import DEFAULT_ROUTING, RoutingConfigError
from services.notifier.routing_file import load_routing

YAML = """
clinic: north
recipients:
  therapists: {channel: log}
routes:
  - kinds: [course_suspended, course_resumed]
    recipients: [therapists]
"""


def test_no_file_means_the_default_log_routing() -> None:
    assert load_routing(None) is DEFAULT_ROUTING


def test_yaml_routing_file(tmp_path: Path) -> None:
    path = tmp_path / "north.yaml"
    path.write_text(YAML)
    config = load_routing(path)
    assert config.clinic == "north"
    assert [n for n, _ in config.recipients_for(Kind.COURSE_RESUMED)] == ["therapists"]
    assert config.recipients_for(Kind.COURSE_COMPLETED) == []


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("r.json", "{not json", "not valid JSON at line 1"),
        ("r.yaml", "recipients: [unclosed", "not valid YAML"),
        ("r.toml", "x = 1", "routing files end in .json, .yaml or .yml"),
        ("r.json", '{"recipients": {}, "routes": []}', ""),
    ],
)
def test_bad_files_say_which_file_and_why(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    if not message:  # an empty routing is valid: it sends nothing anywhere
        assert load_routing(path).recipients_for(Kind.COURSE_SCHEDULED) == []
        return
    with pytest.raises(RoutingConfigError, match=f"^{path}: ") as raised:
        load_routing(path)
    assert message in str(raised.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RoutingConfigError, match="cannot be read"):
        load_routing(tmp_path / "absent.json")


def test_the_readme_example_loads_and_names_every_kind(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "services" / "notifier" / "README.md").read_text()
    section = readme.split("## Routing file", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    secret = "whsec_" + base64.b64encode(b"s" * 32).decode()
    path = tmp_path / "north.yaml"
    path.write_text(example.replace("whsec_…", secret))
    config = load_routing(path)
    assert config.therapists == {"T1": "anna", "T2": "ben"}
    kinds = section.split("Kinds: ", 1)[1].split(".\n", 1)[0]
    assert {kind.strip() for kind in kinds.split(",")} == {kind.value for kind in Kind}
