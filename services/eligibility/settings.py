from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class EligibilitySettings(ServiceSettings):
    """Policy numbers default to DOMAIN.md's; each is a clinic setting."""

    model_config = SettingsConfigDict(env_prefix="COURSEFLOW_ELIGIBILITY_")

    database_url: str = "postgresql://courseflow_eligibility@127.0.0.1:55432/courseflow"

    http_port: int = 58081

    clinic_timezone: str = "UTC"
    fever_threshold_c: float = 37.5
    postop_min_days: int = 14
    timer_interval_s: float = 30.0
    timer_max_attempts: int = 5
    timer_first_retry_s: float = 60.0
    timer_max_retry_s: float = 3600.0
