from datetime import date
from typing import Annotated, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from services.planner.capacity.policy import CapacityPolicy
from services.planner.policy import PlannerPolicy
from services.runtime.settings import ServiceSettings

Weekday = Annotated[int, Field(ge=0, le=6)]


class PlannerSettings(ServiceSettings):
    """The clinic calendar and the course policy; defaults are DOMAIN.md's."""

    model_config = SettingsConfigDict(env_prefix="COURSEFLOW_PLANNER_")

    database_url: str = "postgresql://courseflow_planner@127.0.0.1:55432/courseflow"
    http_port: int = 58082

    clinic_timezone: str = "UTC"
    # Monday=0 … Saturday=5; with no open day no session could ever be dated.
    open_weekdays: tuple[Weekday, ...] = Field((0, 1, 2, 3, 4, 5), min_length=1)
    holidays: tuple[date, ...] = ()
    ramp_start_min: int = Field(7, ge=1)
    ramp_step_min: int = Field(1, ge=1)
    ramp_cap_min: int = Field(15, ge=1)
    next_course_due_months: int = Field(6, ge=1)
    next_course_reminder_days: int = Field(14, ge=0)
    pain_streak_to_flag: int = Field(2, ge=2)  # R-SESSION-PAIN: sessions *in a row*
    turnover_min: int = Field(5, ge=0)  # R-NO-OVERLAP: a therapist's gap between sessions
    capacity_horizon_days: int = Field(14, ge=1)  # R-CAPACITY: how far a session may move
    timer_interval_s: float = 30.0
    timer_max_attempts: int = 5
    timer_first_retry_s: float = 60.0
    timer_max_retry_s: float = 3600.0
    # Calendar feeds (services/planner/feeds/): the address calendar clients reach the
    # planner at (default: http://HTTP_HOST:HTTP_PORT), and the operators' key that the
    # feeds' URLs are made with (`courseflow calendar url`; the service never needs it).
    calendar_base_url: str | None = None
    calendar_url_key: SecretStr | None = Field(None, min_length=32)

    @model_validator(mode="after")
    def _ramp_grows_up_to_its_cap(self) -> Self:
        if self.ramp_start_min > self.ramp_cap_min:
            raise ValueError(
                f"ramp_start_min ({self.ramp_start_min}) must not exceed ramp_cap_min "
                f"({self.ramp_cap_min}): R-DURATION-RAMP grows from its start up to its cap"
            )
        return self

    @property
    def calendar_base(self) -> str:
        base = self.calendar_base_url or f"http://{self.http_host}:{self.http_port}"
        return base.rstrip("/")

    def policy(self) -> PlannerPolicy:
        return PlannerPolicy(
            ramp_start_min=self.ramp_start_min,
            ramp_step_min=self.ramp_step_min,
            ramp_cap_min=self.ramp_cap_min,
            next_course_due_months=self.next_course_due_months,
            reminder_days_before_due=self.next_course_reminder_days,
            pain_streak_to_flag=self.pain_streak_to_flag,
        )

    def capacity_policy(self) -> CapacityPolicy:
        return CapacityPolicy(
            turnover_min=self.turnover_min, horizon_days=self.capacity_horizon_days
        )
