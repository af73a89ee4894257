"""The results database: batches, their jobs, every attempt at a job, QA results and files.

One row per thing a person asks about afterwards: "what did batch X produce", "why was job
Y rejected", "which seed made the accepted clip", "where is the file and is it intact".
Migrations in storage/migrations/ create exactly these tables; a test keeps the two in step.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from clipmill.statuses import (
    ENDED_JOB_STATUSES,
    AttemptEventKind,
    AttemptStatus,
    BatchStatus,
    JobStatus,
    KeywordStatus,
)

# The CHECK constraints' value lists, from the enums every layer uses (clipmill/statuses.py).
BATCH_STATUSES: tuple[str, ...] = tuple(BatchStatus)
JOB_STATUSES: tuple[str, ...] = tuple(JobStatus)
ATTEMPT_STATUSES: tuple[str, ...] = tuple(AttemptStatus)
ATTEMPT_EVENT_KINDS: tuple[str, ...] = tuple(AttemptEventKind)
KEYWORD_STATUSES: tuple[str, ...] = tuple(KeywordStatus)

# Explicit constraint names: SQLite's batch migrations and PostgreSQL's ALTER both need a name
# to drop or recreate a constraint, and generated names differ between backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the backend.

    SQLite has no time zone type and hands back naive values; PostgreSQL hands back the
    session's zone. Normalising here means report code never compares naive with aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: clipmill stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        # SQLite's DATETIME storage format has no offset field; UTC is implied.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (CheckConstraint(_one_of("status", BATCH_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The spec's name is the batch's identity: running the same spec again resumes it.
    name: Mapped[str] = mapped_column(String(200), unique=True)
    spec_path: Mapped[str] = mapped_column(Text)
    spec_sha256: Mapped[str] = mapped_column(String(64))
    run_dir: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="running")
    # `clipmill pause`: the batch's run stops starting clips until `clipmill resume`.
    pause_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]

    jobs: Mapped[list[Job]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="Job.id"
    )

    def __repr__(self) -> str:
        return f"Batch(id={self.id}, name={self.name!r}, status={self.status!r})"


class Job(Base):
    __tablename__ = "jobs"
    # The unique (batch_id, key) index also serves every lookup by batch_id alone.
    __table_args__ = (
        UniqueConstraint("batch_id", "key"),
        CheckConstraint(_one_of("status", JOB_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    plan: Mapped[dict[str, Any] | None]
    # JobSpec.version() of the definition last run; a new one starts the job afresh.
    version: Mapped[str | None] = mapped_column(String(64))
    # Attempts numbered up to this one were spent before `--retry-failed` gave a new budget.
    budget_from: Mapped[int] = mapped_column(Integer, default=0)
    # Who is making the job right now, until when (storage.leases): one run at a time.
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    # `clipmill cancel`: the run making it stops within a denoising step; cleared when it runs again.
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    # jobs -> attempts -> jobs is a cycle; use_alter lets create_all add this key last.
    accepted_attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("attempts.id", ondelete="SET NULL", use_alter=True), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    batch: Mapped[Batch] = relationship(back_populates="jobs")
    attempts: Mapped[list[Attempt]] = relationship(
        back_populates="job",
        cascade="all, delete-orphan",
        order_by="Attempt.number",
        foreign_keys="Attempt.job_id",
    )
    # post_update: the accepted attempt's row must exist before the job can point at it.
    accepted_attempt: Mapped[Attempt | None] = relationship(
        foreign_keys=[accepted_attempt_id], post_update=True
    )
    artifacts: Mapped[list[Artifact]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="Artifact.id"
    )

    def __repr__(self) -> str:
        return f"Job(id={self.id}, key={self.key!r}, status={self.status!r})"


class Attempt(Base):
    __tablename__ = "attempts"
    # Numbers continue across resumed runs, so (job_id, number) names one attempt for good;
    # its index also serves lookups by job_id alone.
    __table_args__ = (
        UniqueConstraint("job_id", "number"),
        CheckConstraint(_one_of("status", ATTEMPT_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    job_version: Mapped[str | None] = mapped_column(String(64))
    # What makes it again (clipmill rerun): prompts sent, plan, parameters, model source and
    # fingerprint, software versions (clipmill.provenance).
    reproduce: Mapped[dict[str, Any] | None]
    # The AIGC ProduceID its MP4 carries (unique per clip) and which labels it has (clipmill.publishing).
    produce_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    label_status: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    error: Mapped[str | None] = mapped_column(Text)
    device: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)

    job: Mapped[Job] = relationship(back_populates="attempts", foreign_keys=[job_id])
    checks: Mapped[list[QAResult]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="QAResult.id"
    )
    artifacts: Mapped[list[Artifact]] = relationship(back_populates="attempt", order_by="Artifact.id")
    events: Mapped[list[AttemptEvent]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="AttemptEvent.id"
    )

    def __repr__(self) -> str:
        return f"Attempt(id={self.id}, job_id={self.job_id}, number={self.number}, status={self.status!r})"


class QAResult(Base):
    __tablename__ = "qa_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(64))
    # What was measured (qa.types.CheckKind) and about what (a class, a name, an interaction;
    # NULL for the whole clip). `metric` is the same as one readable name ("count:person"):
    # code reads kind and subject, never splits the name.
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(64))
    # Nullable because a metric can come out NaN (e.g. flicker of a one-frame clip); SQLite
    # would turn NaN into NULL anyway, and NULL keeps reports valid JSON.
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text, default="")

    attempt: Mapped[Attempt] = relationship(back_populates="checks")


class AttemptEvent(Base):
    """A decision or incident of an attempt, apart from its measured checks: which retry the
    policy chose and why (`details` holds the parameter changes), a memory-profile fallback."""

    __tablename__ = "attempt_events"
    __table_args__ = (CheckConstraint(_one_of("kind", ATTEMPT_EVENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))  # retry: accept, repair, regenerate, stop
    reason: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    attempt: Mapped[Attempt] = relationship(back_populates="events")


class Artifact(Base):
    __tablename__ = "artifacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("attempts.id", ondelete="SET NULL"), index=True
    )
    # Open set ("input_image", "prepared_image", "segment", "frames", "clip", "poster",
    # "sidecar", ...): new pipeline stages add kinds without a migration.
    kind: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(Text)  # a local path or a URL
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    job: Mapped[Job] = relationship(back_populates="artifacts")
    attempt: Mapped[Attempt | None] = relationship(back_populates="artifacts")



class Keyword(Base):
    """One trending keyword, however many times and from however many sources it was seen.

    `normalised` (NFKC, casefolded, whitespace collapsed) is the identity: a keyword whose
    status is "queued" already has jobs and is never queued again. The batch is named, not
    referenced: with `run_deployment` or an automation the batch row only exists once a
    worker picks the batch up, maybe never.
    """

    __tablename__ = "keywords"
    __table_args__ = (CheckConstraint(_one_of("status", KEYWORD_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    normalised: Mapped[str] = mapped_column(String(500), unique=True)
    display: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    batch_name: Mapped[str | None] = mapped_column(String(200), index=True)
    # One keyword becomes one job per template.
    job_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Keyword(id={self.id}, normalised={self.normalised!r}, status={self.status!r})"
