"""Reads the routing file named by the settings: JSON, or YAML when PyYAML is installed."""

import json
from pathlib import Path
from typing import Any

from services.notifier.routing import (
    DEFAULT_ROUTING,
    RoutingConfig,
    RoutingConfigError,
    parse_routing,
)


def load_routing(path: Path | None) -> RoutingConfig:
    if path is None:
        return DEFAULT_ROUTING
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RoutingConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_routing(_parse_text(path, text), str(path))


def _parse_text(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise RoutingConfigError(f"{path}: not valid JSON at line {exc.lineno}") from None
    if path.suffix.lower() in {".yaml", ".yml"}:
        import yaml  # noqa: PLC0415 - only YAML routing files need PyYAML

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            raise RoutingConfigError(f"{path}: not valid YAML") from None
    raise RoutingConfigError(f"{path}: routing files end in .json, .yaml or .yml")
