from pathlib import Path

from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    """Routing comes from a file; with none, every notice goes to the log channel."""

    model_config = SettingsConfigDict(env_prefix="COURSEFLOW_NOTIFIER_")

    database_url: str = "postgresql://courseflow_notifier@127.0.0.1:55432/courseflow"

    http_port: int = 58083

    routing_file: Path | None = None
    coalesce_window_s: float = 0.0
    clinic_timezone: str = "UTC"
    delivery_max_attempts: int = 8
    delivery_first_retry_s: float = 2.0
    delivery_max_retry_s: float = 600.0
    # The loop sleeps until the next delivery is due or its consumers queue one; this is
    # the longest it sleeps (work another replica left due) and its first pause after a
    # failed tick.
    delivery_poll_interval_s: float = 5.0
    delivery_batch_size: int = 20
    webhook_timeout_s: float = 5.0
    smtp_timeout_s: float = 10.0
