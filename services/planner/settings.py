from datetime import date

from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class PlannerSettings(ServiceSettings):
    """The clinic calendar and the course policy; defaults are DOMAIN.md's."""

    model_config = SettingsConfigDict(env_prefix="COURSEFLOW_PLANNER_")

    database_url: str = "postgresql://courseflow_planner@127.0.0.1:55432/courseflow"
    http_port: int = 58082

    clinic_timezone: str = "UTC"
    open_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5)  # Monday=0 … Saturday=5
    holidays: tuple[date, ...] = ()
    next_course_reminder_days: int = 14
    timer_interval_s: float = 30.0
    timer_max_attempts: int = 5
    timer_first_retry_s: float = 60.0
    timer_max_retry_s: float = 3600.0
