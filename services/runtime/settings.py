"""Settings shared by every service; each service subclasses with its own env prefix."""

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from schemas import topics

SHARED_PREFIX = "COURSEFLOW_"


class ServiceSettings(BaseSettings):
    """Read once at start-up and passed in; nothing reads the environment later.

    A service's own variable (COURSEFLOW_PLANNER_LOG_LEVEL) wins over the shared one
    (COURSEFLOW_LOG_LEVEL), which wins over the default.
    """

    model_config = SettingsConfigDict(env_prefix=SHARED_PREFIX, frozen=True, extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        shared = EnvSettingsSource(settings_cls, env_prefix=SHARED_PREFIX)
        return init_settings, env_settings, shared, dotenv_settings, file_secret_settings

    kafka_bootstrap_servers: str = "127.0.0.1:59092"
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    database_url: str = "postgresql://courseflow@127.0.0.1:55432/courseflow"
    topic_partitions: int = 6
    # Unset: derived from the cluster's size (services/runtime/topics.py, durability_for).
    topic_replication_factor: int | None = None
    topic_min_insync_replicas: int | None = None
    topic_patient_events: str = topics.PATIENT_EVENTS
    topic_staff_events: str = topics.STAFF_EVENTS
    topic_planner_commands: str = topics.PLANNER_COMMANDS
    topic_eligibility: str = topics.ELIGIBILITY
    topic_schedule: str = topics.SCHEDULE
    topic_notices: str = topics.NOTICES
    topic_dead_letters: str = topics.DEAD_LETTERS
    consumer_max_records: int = 500
    # The broker answers a fetch as soon as one record is there, else after the wait: an idle
    # consumer sends one fetch a second and no record is held back. Waiting for more bytes
    # batched more at moderate rates, but cost idle CPU and latency at low rates
    # (docs/performance.md, "Idle and low rates: the consumer settings").
    consumer_fetch_min_bytes: int = 1
    consumer_fetch_max_wait_ms: int = 1000
    # FastStream's batch loop waits this long for records and, when none came, sleeps as long
    # again before it asks: an idle consumer adds up to this much latency to its next record.
    consumer_batch_timeout_ms: int = 75
    # The same for topics that carry few records (the planner's staff events): a service has
    # one consumer per Decider, and each idle one wakes once per twice this.
    consumer_quiet_batch_timeout_ms: int = 500
    # After a batch of more than one record but fewer than `consumer_max_records` (traffic is
    # flowing, none is held back), wait this long before the next fetch, so records gather
    # into fewer, larger transactions; a lone record at a low rate goes on at once.
    consumer_gather_ms: int = 50
    # A replica that stops heartbeating (paused, partitioned) loses its partitions after this.
    consumer_session_timeout_ms: int = 10_000
    consumer_heartbeat_interval_ms: int = 3_000
    outbox_batch_size: int = 500
    # The relay is woken by NOTIFY at each commit that wrote outbox rows; polling is a fallback.
    outbox_poll_interval_s: float = 5.0
    # /health answers 503 once the relay has failed to publish for this long (a relay that
    # waits as standby for another replica's lock is healthy).
    outbox_unhealthy_after_s: float = 30.0
    # How often backlog, oldest unsent age and parked rows are read for /metrics.
    outbox_metrics_interval_s: float = 5.0
    # A row for a topic the cluster lacks is parked once the topic has been missing this long
    # (a topic just created or being recreated is waited for; later rows wait behind it).
    outbox_park_missing_topic_after_s: float = 60.0
    db_pool_max_size: int = 10
    # Allocations between two collections of the garbage collector's young generation
    # (Python's default: 700); `services.runtime.collector`.
    gc_young_threshold: int = Field(default=50_000, ge=700)
    # A lock wait or a statement that takes longer fails as transient: retried, not skipped.
    db_lock_timeout_ms: int = 10_000
    db_command_timeout_s: float = 30.0
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"
    event_source: str = "/courseflow"
    http_host: str = "127.0.0.1"
    http_port: int = 0
    clock_offset_days: int = 0
    # `courseflow db prune`: rows older than this many days go. An inbox row must outlive
    # every redelivery of its record (Kafka keeps records 7 days by default), a delivery
    # every redelivery of its cause, or the record or notice would be handled again.
    retention_inbox_days: int = 30
    retention_outbox_days: int = 7
    retention_deliveries_days: int = 30
    prune_batch_size: int = 5000

    @property
    def kafka_bootstrap_list(self) -> list[str]:
        """One `host:port` per entry: FastStream takes a comma-joined string for one host."""
        return [
            server.strip() for server in self.kafka_bootstrap_servers.split(",") if server.strip()
        ]

    def gather_pause_s(self, batch_size: int) -> float:
        """The wait after a consumed batch of `batch_size` records before the next fetch: none
        after a lone record (a low rate) or a full batch (more records are waiting already)."""
        if 1 < batch_size < self.consumer_max_records:
            return self.consumer_gather_ms / 1000
        return 0.0

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> Self:
        if self.kafka_security_protocol == "SASL_SSL" and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError("SASL_SSL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        return self
