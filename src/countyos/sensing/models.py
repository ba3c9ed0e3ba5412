"""ORM models of the sensing domain.

Two kinds of tables live here:

* the OGC SensorThings entities (things, locations, sensors, observed properties, datastreams,
  multi-datastreams, features of interest) and the operational rows around them (device tokens,
  retention classes, rules, alarms): ordinary, small tables;
* the volume tables, written by ingest at tens of thousands of rows per second: ``sensing_observation``
  (narrow: integer keys, time as µs since 1970 UTC, a float result), ``sensing_latest`` (one row per
  datastream: the latest value without scanning) and the rollups at 1 minute, 1 hour and 1 day.
  They carry no foreign keys (checking them would cost on every row); the service removes dependent
  rows itself. On PostgreSQL ``sensing_observation`` is partitioned by month (migration 0004).

Times in the volume tables are integers (µs since 1970-01-01 UTC): 8 bytes instead of a 26-byte text
on SQLite, and cheap to compare, bucket and partition on both backends.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from countyos.core.clock import utcnow
from countyos.core.commitorder import WRITING_TRANSACTION, TransactionId
from countyos.core.db import Base, StrEnumType, UTCDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")  # an INTEGER PRIMARY KEY is SQLite's rowid


class Health(StrEnum):
    UNKNOWN = "unknown"  # never reported, or no expected interval
    ONLINE = "online"
    OFFLINE = "offline"


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.MAJOR: 1, Severity.MINOR: 2, Severity.WARNING: 3}


class AlarmState(StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


class AlarmKind(StrEnum):
    RULE = "rule"  # a rule's condition held
    OFFLINE = "offline"  # the device stopped reporting
    INDEX = "index"  # an ecology index (AQI, water class) past its limit (eco)
    CROWDING = "crowding"  # a scenic spot's visitors past a share of its capacity (village)


class RetentionClass(Base):
    """How long data of a class of datastreams is kept (data, changed by operators, no code)."""

    __tablename__ = "sensing_retention_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    raw_days: Mapped[int] = mapped_column(Integer)  # raw observations
    minute_days: Mapped[int] = mapped_column(Integer)
    hour_days: Mapped[int | None] = mapped_column(Integer)  # None: kept for ever
    day_days: Mapped[int | None] = mapped_column(Integer)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # disk use, filled by a job
    stats_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


thing_location = Table(
    "sensing_thing_location",
    Base.metadata,
    Column("thing_id", ForeignKey("sensing_thing.id", ondelete="CASCADE"), primary_key=True),
    Column("location_id", ForeignKey("sensing_location.id", ondelete="CASCADE"), primary_key=True, index=True),
)

historical_location_location = Table(
    "sensing_historical_location_location",
    Base.metadata,
    Column(
        "historical_location_id", ForeignKey("sensing_historical_location.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("location_id", ForeignKey("sensing_location.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Thing(Base):
    """A device (or a station, a gateway): STA Thing plus what operations needs to know of it."""

    __tablename__ = "sensing_thing"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    device_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # county/{device_key}/telemetry
    device_class: Mapped[str | None] = mapped_column(String(40), index=True)
    gateway_id: Mapped[int | None] = mapped_column(ForeignKey("sensing_thing.id", ondelete="SET NULL"), index=True)
    expected_interval_s: Mapped[int | None] = mapped_column(Integer)
    health: Mapped[Health] = mapped_column(StrEnumType(Health, 10), default=Health.UNKNOWN, index=True)
    health_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    battery: Mapped[float | None] = mapped_column(Float)  # percent
    signal: Mapped[float | None] = mapped_column(Float)  # dBm
    lon: Mapped[float | None] = mapped_column(Float)  # of its current location, for maps and cases
    lat: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    locations: Mapped[list[Location]] = relationship(secondary=thing_location, lazy="selectin")


class Location(Base):
    __tablename__ = "sensing_location"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(60), default="application/geo+json")
    location: Mapped[dict[str, Any]] = mapped_column(JSON)  # GeoJSON geometry (or Feature)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A representative point and the bounding box, so that both backends filter in plain SQL.
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    min_x: Mapped[float | None] = mapped_column(Float)
    min_y: Mapped[float | None] = mapped_column(Float)
    max_x: Mapped[float | None] = mapped_column(Float)
    max_y: Mapped[float | None] = mapped_column(Float)


class HistoricalLocation(Base):
    __tablename__ = "sensing_historical_location"

    id: Mapped[int] = mapped_column(primary_key=True)
    thing_id: Mapped[int] = mapped_column(ForeignKey("sensing_thing.id", ondelete="CASCADE"), index=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime)


class Sensor(Base):
    __tablename__ = "sensing_sensor"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    meta: Mapped[str] = mapped_column("metadata", Text, default="")
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ObservedProperty(Base):
    __tablename__ = "sensing_observed_property"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class FeatureOfInterest(Base):
    __tablename__ = "sensing_feature"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    encoding_type: Mapped[str] = mapped_column(String(60), default="application/geo+json")
    feature: Mapped[dict[str, Any]] = mapped_column(JSON)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    min_x: Mapped[float | None] = mapped_column(Float)
    min_y: Mapped[float | None] = mapped_column(Float)
    max_x: Mapped[float | None] = mapped_column(Float)
    max_y: Mapped[float | None] = mapped_column(Float)


class Datastream(Base):
    """A time series of one observed property measured by one sensor on one thing."""

    __tablename__ = "sensing_datastream"
    __table_args__ = (UniqueConstraint("thing_id", "metric", name="uq_sensing_datastream_thing_metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    observation_type: Mapped[str] = mapped_column(
        String(120), default="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"
    )
    unit: Mapped[dict[str, Any]] = mapped_column(JSON)  # unitOfMeasurement {name, symbol, definition}
    unit_symbol: Mapped[str | None] = mapped_column(String(40))
    thing_id: Mapped[int] = mapped_column(ForeignKey("sensing_thing.id", ondelete="CASCADE"), index=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensing_sensor.id", ondelete="RESTRICT"), index=True)
    observed_property_id: Mapped[int] = mapped_column(
        ForeignKey("sensing_observed_property.id", ondelete="RESTRICT"), index=True
    )
    observed_area: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    metric: Mapped[str | None] = mapped_column(String(40))  # key in county/{device}/telemetry messages
    retention_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("sensing_retention_class.id", ondelete="SET NULL"), index=True
    )
    valid_min: Mapped[float | None] = mapped_column(Float)  # plausible range; outside it is refused
    valid_max: Mapped[float | None] = mapped_column(Float)
    default_foi_id: Mapped[int | None] = mapped_column(ForeignKey("sensing_feature.id", ondelete="SET NULL"))

    thing: Mapped[Thing] = relationship(lazy="joined")


class MultiDatastream(Base):
    __tablename__ = "sensing_multi_datastream"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    observation_type: Mapped[str] = mapped_column(
        String(120), default="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_ComplexObservation"
    )
    units: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # unitOfMeasurements
    observation_types: Mapped[list[str]] = mapped_column(JSON)  # multiObservationDataTypes
    thing_id: Mapped[int] = mapped_column(ForeignKey("sensing_thing.id", ondelete="CASCADE"), index=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensing_sensor.id", ondelete="RESTRICT"), index=True)
    observed_area: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    retention_class_id: Mapped[int | None] = mapped_column(
        ForeignKey("sensing_retention_class.id", ondelete="SET NULL"), index=True
    )
    default_foi_id: Mapped[int | None] = mapped_column(ForeignKey("sensing_feature.id", ondelete="SET NULL"))


class MultiDatastreamProperty(Base):
    __tablename__ = "sensing_multi_datastream_property"

    multi_datastream_id: Mapped[int] = mapped_column(
        ForeignKey("sensing_multi_datastream.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    observed_property_id: Mapped[int] = mapped_column(
        ForeignKey("sensing_observed_property.id", ondelete="RESTRICT"), index=True
    )


class Observation(Base):
    """One measurement: the narrow row written by ingest (see the module docstring).

    ``foi_id`` is NULL when the feature of interest is the datastream's default one (the thing's
    location), which is the common case, so the row stays narrow. Anything beyond time + number
    (result time, quality, validity, parameters, non-numeric results) is in ``ObservationExtra``.
    """

    __tablename__ = "sensing_observation"
    __table_args__ = (
        Index("uq_sensing_observation_stream_time", "datastream_id", "phenomenon_us", unique=True),
        Index(
            "uq_sensing_observation_multi_time",
            "multi_datastream_id",
            "phenomenon_us",
            unique=True,
            sqlite_where=Column("multi_datastream_id").isnot(None),
            postgresql_where=Column("multi_datastream_id").isnot(None),
        ),
        # FeaturesOfInterest(id)/Observations: the few rows with their own feature (most have none)
        Index(
            "ix_sensing_observation_foi",
            "foi_id",
            sqlite_where=Column("foi_id").isnot(None),
            postgresql_where=Column("foi_id").isnot(None),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    datastream_id: Mapped[int | None] = mapped_column(Integer)
    multi_datastream_id: Mapped[int | None] = mapped_column(Integer)
    phenomenon_us: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[float | None] = mapped_column(Float)
    foi_id: Mapped[int | None] = mapped_column(Integer)


class ObservationExtra(Base):
    __tablename__ = "sensing_observation_extra"

    observation_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    phenomenon_end_us: Mapped[int | None] = mapped_column(BigInteger)
    result_time_us: Mapped[int | None] = mapped_column(BigInteger)
    result_json: Mapped[Any] = mapped_column(JSON, nullable=True)  # non-numeric result (text, boolean, object, array)
    result_quality: Mapped[Any] = mapped_column(JSON, nullable=True)
    valid_start_us: Mapped[int | None] = mapped_column(BigInteger)
    valid_end_us: Mapped[int | None] = mapped_column(BigInteger)
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Latest(Base):
    """The latest observation of each datastream, kept by ingest (home-assistant's three times:
    ``reported_us`` every observation, ``changed_us`` when the value changed)."""

    __tablename__ = "sensing_latest"

    datastream_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    phenomenon_us: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[float | None] = mapped_column(Float)
    observation_id: Mapped[int] = mapped_column(BigInteger)
    reported_us: Mapped[int] = mapped_column(BigInteger)  # when it last reported (wall clock)
    changed_us: Mapped[int] = mapped_column(BigInteger)  # when its value last changed
    raw_count: Mapped[int] = mapped_column(BigInteger, default=0)  # raw rows kept (for $count and disk use)


ROLLUP_TABLE_ARGS: Any = {"sqlite_with_rowid": False}  # clustered on (datastream, bucket)


class _Aggregates:
    """What a rollup row keeps of its bucket's values."""

    n: Mapped[int] = mapped_column(Integer)
    vmin: Mapped[float | None] = mapped_column(Float)
    vmax: Mapped[float | None] = mapped_column(Float)
    vsum: Mapped[float | None] = mapped_column(Float)
    vlast: Mapped[float | None] = mapped_column(Float)
    last_us: Mapped[int] = mapped_column(BigInteger)


class _RollupColumns(_Aggregates):
    datastream_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket_us: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class RollupMinute(_RollupColumns, Base):
    __tablename__ = "sensing_rollup_minute"
    __table_args__ = ROLLUP_TABLE_ARGS


class RollupHour(_RollupColumns, Base):
    __tablename__ = "sensing_rollup_hour"
    __table_args__ = ROLLUP_TABLE_ARGS


class RollupDay(_RollupColumns, Base):
    __tablename__ = "sensing_rollup_day"
    __table_args__ = ROLLUP_TABLE_ARGS


class _MultiRollupColumns(_Aggregates):
    """Rollups of one component (position in the result array) of a MultiDatastream."""

    multi_datastream_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    component: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    bucket_us: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class RollupMultiMinute(_MultiRollupColumns, Base):
    __tablename__ = "sensing_rollup_multi_minute"
    __table_args__ = ROLLUP_TABLE_ARGS


class RollupMultiHour(_MultiRollupColumns, Base):
    __tablename__ = "sensing_rollup_multi_hour"
    __table_args__ = ROLLUP_TABLE_ARGS


class RollupMultiDay(_MultiRollupColumns, Base):
    __tablename__ = "sensing_rollup_multi_day"
    __table_args__ = ROLLUP_TABLE_ARGS


class DeviceToken(Base):
    """A secret with which one device (or a gateway, for itself and its children) posts observations."""

    __tablename__ = "sensing_device_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    thing_id: Mapped[int] = mapped_column(ForeignKey("sensing_thing.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Rule(Base):
    """A rule as data: a JSON condition evaluated by :mod:`countyos.sensing.service.engine`.

    It applies to one datastream, or to every datastream of an observed property, or to every
    datastream of a device class (optionally of one observed property).
    """

    __tablename__ = "sensing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity, 10))
    condition: Mapped[dict[str, Any]] = mapped_column(JSON)
    datastream_id: Mapped[int | None] = mapped_column(ForeignKey("sensing_datastream.id", ondelete="CASCADE"))
    observed_property_id: Mapped[int | None] = mapped_column(
        ForeignKey("sensing_observed_property.id", ondelete="CASCADE")
    )
    device_class: Mapped[str | None] = mapped_column(String(40))
    case_category_code: Mapped[str | None] = mapped_column(String(24))  # cases: Open311 service code
    dedupe_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RuleState(Base):
    """Where one rule stands for one datastream between two batches (the engine's memory)."""

    __tablename__ = "sensing_rule_state"

    rule_id: Mapped[int] = mapped_column(ForeignKey("sensing_rule.id", ondelete="CASCADE"), primary_key=True)
    datastream_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    firing: Mapped[bool] = mapped_column(Boolean, default=False)
    alarm_id: Mapped[int | None] = mapped_column(Integer)


class Alarm(Base):
    __tablename__ = "sensing_alarm"
    __table_args__ = (Index("ix_sensing_alarm_open", "state", "severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AlarmKind] = mapped_column(StrEnumType(AlarmKind, 10))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("sensing_rule.id", ondelete="SET NULL"), index=True)
    thing_id: Mapped[int] = mapped_column(ForeignKey("sensing_thing.id", ondelete="CASCADE"), index=True)
    datastream_id: Mapped[int | None] = mapped_column(Integer, index=True)
    severity: Mapped[Severity] = mapped_column(StrEnumType(Severity, 10))
    state: Mapped[AlarmState] = mapped_column(StrEnumType(AlarmState, 14))
    title: Mapped[str] = mapped_column(String(300))
    value: Mapped[float | None] = mapped_column(Float)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    times: Mapped[int] = mapped_column(Integer, default=1)  # raised this often inside the dedupe window
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(60))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_by: Mapped[str | None] = mapped_column(String(60))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    case_number: Mapped[str | None] = mapped_column(String(20))
    case_error: Mapped[str | None] = mapped_column(String(300))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AlarmObservation(Base):
    """The observations that raised an alarm (at most a few per raise)."""

    __tablename__ = "sensing_alarm_observation"

    alarm_id: Mapped[int] = mapped_column(ForeignKey("sensing_alarm.id", ondelete="CASCADE"), primary_key=True)
    observation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    phenomenon_us: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[float | None] = mapped_column(Float)


class AlarmEvent(Base):
    """The timeline of an alarm: every transition with who, when and why."""

    __tablename__ = "sensing_alarm_event"
    __table_args__ = (
        Index("ix_sensing_alarm_event_xact_id", "xact", "id").ddl_if(dialect="postgresql"),  # the live feed's order
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("sensing_alarm.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(14))
    to_state: Mapped[str] = mapped_column(String(14))
    actor_name: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(Text)
    # the writing transaction (PostgreSQL), for reading the timeline in commit order: core.commitorder
    xact: Mapped[int | None] = mapped_column(TransactionId, server_default=WRITING_TRANSACTION)
