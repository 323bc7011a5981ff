from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.eligibility.policy import Policy
from services.runtime.settings import ServiceSettings


class EligibilitySettings(ServiceSettings):
    """Policy numbers default to DOMAIN.md's; each is a clinic setting."""

    model_config = SettingsConfigDict(env_prefix="COURSEFLOW_ELIGIBILITY_")

    database_url: str = "postgresql://courseflow_eligibility@127.0.0.1:55432/courseflow"

    http_port: int = 58081

    clinic_timezone: str = "UTC"
    # Bounded so that a typo cannot call every patient feverish, or none.
    fever_threshold_c: float = Field(37.5, ge=37.0, le=42.0)
    postop_min_days: int = Field(14, ge=0)
    rheumatic_wait_months: int = Field(1, ge=1)
    advanced_stage_from: int = Field(3, ge=1, le=4)  # arthrosis stages are 1..4
    timer_interval_s: float = 30.0
    timer_max_attempts: int = 5
    timer_first_retry_s: float = 60.0
    timer_max_retry_s: float = 3600.0

    def policy(self) -> Policy:
        return Policy(
            fever_threshold_c=self.fever_threshold_c,
            postop_min_days=self.postop_min_days,
            rheumatic_wait_months=self.rheumatic_wait_months,
            advanced_stage_from=self.advanced_stage_from,
        )
