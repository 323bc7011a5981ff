from pathlib import Path

from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    """Routing comes from a file; with none, every notice goes to the log channel."""

    model_config = SettingsConfigDict(env_prefix="COURSEFLOW_NOTIFIER_")

    routing_file: Path | None = None
    coalesce_window_s: float = 0.0
