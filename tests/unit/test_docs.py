"""The README stays true: every setting is documented, and the two commands come first."""

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from services.eligibility.settings import EligibilitySettings
from services.notifier.settings import NotifierSettings
from services.planner.settings import PlannerSettings
from services.runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def own_fields(settings: type[BaseSettings]) -> list[str]:
    inherited = set(ServiceSettings.model_fields)
    return [name for name in settings.model_fields if name not in inherited]


def test_readme_starts_with_the_two_commands() -> None:
    head = "\n".join(README.splitlines()[:8])
    assert "make run" in head
    assert "make test" in head


@pytest.mark.parametrize("field", list(ServiceSettings.model_fields))
def test_every_shared_setting_is_documented(field: str) -> None:
    assert f"`{field.upper()}`" in README


@pytest.mark.parametrize(
    ("service", "field"),
    [
        (service, field)
        for service, settings in (
            ("ELIGIBILITY", EligibilitySettings),
            ("PLANNER", PlannerSettings),
            ("NOTIFIER", NotifierSettings),
        )
        for field in own_fields(settings)
    ],
)
def test_every_service_setting_is_documented(service: str, field: str) -> None:
    assert f"`{service}_{field.upper()}`" in README


def test_make_help_lists_every_target_the_readme_names() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "down", "lint", "help"):
        assert f"\n{target}:" in makefile or f"\n{target}: " in makefile
