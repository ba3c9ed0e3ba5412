"""The bodies of SensorThings writes as Pydantic models: one per entity type, nested for deep insert.

A body is validated whole before anything is written, so a wrong type anywhere in a deep insert is a
400 naming the field (``Datastreams[0].Sensor.metadata: Field required``) and never a half-written
tree or a server error. Every model refuses unknown properties; times need a zone (OGC 18-088 writes
them as ISO 8601 with ``Z`` or an offset, and a time without one does not say which instant it is).

A nested object is either a reference to an existing entity (``{"@iot.id": 7}``) or a new entity.
``needs`` lists what a new entity must have; the ``…Of…`` variants are the same entity created under
a parent, which supplies the link back (a Datastream inside a Thing does not name its Thing).
PATCH bodies use the ``patch`` variants (nothing required, but a required property cannot become
null); PUT bodies the ``put`` variants (the plain required properties, no navigation).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    Tag,
    ValidationError,
    model_validator,
)

from countyos.sensing.service.times import parse_interval, parse_iso

# Bounds of one write request (a bigger load is split into several requests).
MAX_DEPTH = 32  # nesting of JSON objects and arrays anywhere in a body
MAX_ENTITIES = 10_000  # entities created by one deep insert
MAX_DATA_ARRAY_ROWS = 100_000  # rows of one CreateObservations request
MAX_ERRORS = 10  # validation errors reported in one answer
MAX_ID = 2**63 - 1

Mode = Literal["create", "put", "patch"]
_REF, _NEW = "@ref", "@new"  # union tags; no property name starts with "@" except the @iot.* ones


class BodyInvalid(ValueError):
    """A body that does not fit its model: ``errors`` lists ``{"field", "message"}``."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        shown = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
        super().__init__(shown)


def _instant(value: str) -> str:
    parse_iso(value)
    return value


def _interval(value: str) -> str:
    parse_interval(value)
    return value


Instant = Annotated[str, Field(max_length=64), AfterValidator(_instant)]
Interval = Annotated[str, Field(max_length=130), AfterValidator(_interval)]
Text = Annotated[str, Field(max_length=10_000)]
Name = Annotated[str, Field(max_length=500)]
JsonObject = dict[str, Any]


def _kind(value: Any) -> str:
    if isinstance(value, dict) and ("@iot.id" in value or set(value) == {"id"}):
        return _REF
    return _NEW


class Ref(BaseModel):
    """A link to an existing entity; its other properties are ignored (OGC 18-088, 10.2.1.1)."""

    model_config = ConfigDict(extra="ignore")
    iot_id: StrictInt = Field(validation_alias=AliasChoices("@iot.id", "id"), gt=0, le=MAX_ID)


class Unit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    symbol: Name | None = None
    definition: Text | None = None


class _Entity(BaseModel):
    """What every entity body may carry besides its own properties (ids are read-only, ignored)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)
    needs: ClassVar[tuple[str, ...]] = ()
    plain: ClassVar[tuple[str, ...]] = ()  # the required properties that are not navigation links
    mode: ClassVar[Mode] = "create"

    iot_id: Any = Field(None, alias="@iot.id")
    self_link: Any = Field(None, alias="@iot.selfLink")
    id: Any = None

    @model_validator(mode="after")
    def _required(self) -> Any:
        by_alias = {f.alias or name: name for name, f in type(self).model_fields.items()}
        if self.mode == "patch":
            null = [
                n for n in self.needs if by_alias[n] in self.model_fields_set and getattr(self, by_alias[n]) is None
            ]
            if null:
                raise ValueError(f"{', '.join(null)} cannot be null")
            return self
        needed = self.plain if self.mode == "put" else self.needs
        missing = [n for n in needed if getattr(self, by_alias[n]) is None]
        if missing:
            raise ValueError(f"needs {', '.join(missing)}")
        return self


class _Named(_Entity):
    name: Name | None = None
    description: Text | None = None
    properties: JsonObject | None = None


ThingIn = Annotated[Annotated[Ref, Tag(_REF)] | Annotated["Thing", Tag(_NEW)], Discriminator(_kind)]
LocationIn = Annotated[Annotated[Ref, Tag(_REF)] | Annotated["Location", Tag(_NEW)], Discriminator(_kind)]
SensorIn = Annotated[Annotated[Ref, Tag(_REF)] | Annotated["Sensor", Tag(_NEW)], Discriminator(_kind)]
ObservedPropertyIn = Annotated[
    Annotated[Ref, Tag(_REF)] | Annotated["ObservedProperty", Tag(_NEW)], Discriminator(_kind)
]
FeatureOfInterestIn = Annotated[
    Annotated[Ref, Tag(_REF)] | Annotated["FeatureOfInterest", Tag(_NEW)], Discriminator(_kind)
]


class Thing(_Named):
    needs: ClassVar[tuple[str, ...]] = ("name",)
    plain: ClassVar[tuple[str, ...]] = needs
    locations: list[LocationIn] | None = Field(None, alias="Locations")
    historical_locations: list[HistoricalLocationOfThing] | None = Field(None, alias="HistoricalLocations")
    datastreams: list[DatastreamOfThing] | None = Field(None, alias="Datastreams")
    multi_datastreams: list[MultiDatastreamOfThing] | None = Field(None, alias="MultiDatastreams")


class Location(_Named):
    needs: ClassVar[tuple[str, ...]] = ("name", "encodingType", "location")
    plain: ClassVar[tuple[str, ...]] = needs
    encoding_type: Name | None = Field(None, alias="encodingType")
    location: JsonObject | None = None
    things: list[ThingIn] | None = Field(None, alias="Things")


class HistoricalLocation(_Entity):
    needs: ClassVar[tuple[str, ...]] = ("Thing",)
    time: Instant | None = None
    thing: ThingIn | None = Field(None, alias="Thing")
    locations: list[LocationIn] | None = Field(None, alias="Locations")


class HistoricalLocationOfThing(HistoricalLocation):
    needs: ClassVar[tuple[str, ...]] = ()


class Sensor(_Named):
    needs: ClassVar[tuple[str, ...]] = ("name", "encodingType", "metadata")
    plain: ClassVar[tuple[str, ...]] = needs
    encoding_type: Name | None = Field(None, alias="encodingType")
    metadata: Text | None = None
    datastreams: list[DatastreamOfSensor] | None = Field(None, alias="Datastreams")
    multi_datastreams: list[MultiDatastreamOfSensor] | None = Field(None, alias="MultiDatastreams")


class ObservedProperty(_Named):
    needs: ClassVar[tuple[str, ...]] = ("name", "definition")
    plain: ClassVar[tuple[str, ...]] = needs
    definition: Text | None = None
    datastreams: list[DatastreamOfObservedProperty] | None = Field(None, alias="Datastreams")


class Datastream(_Named):
    plain: ClassVar[tuple[str, ...]] = ("name", "unitOfMeasurement", "observationType")
    needs: ClassVar[tuple[str, ...]] = (*plain, "Thing", "Sensor", "ObservedProperty")
    observation_type: Text | None = Field(None, alias="observationType")
    unit_of_measurement: Unit | None = Field(None, alias="unitOfMeasurement")
    observed_area: JsonObject | None = Field(None, alias="observedArea")
    phenomenon_time: Interval | None = Field(None, alias="phenomenonTime")  # computed; ignored on write
    result_time: Interval | None = Field(None, alias="resultTime")  # computed; ignored on write
    thing: ThingIn | None = Field(None, alias="Thing")
    sensor: SensorIn | None = Field(None, alias="Sensor")
    observed_property: ObservedPropertyIn | None = Field(None, alias="ObservedProperty")
    observations: list[ObservationOfDatastream] | None = Field(None, alias="Observations")


class DatastreamOfThing(Datastream):
    needs: ClassVar[tuple[str, ...]] = (*Datastream.plain, "Sensor", "ObservedProperty")


class DatastreamOfSensor(Datastream):
    needs: ClassVar[tuple[str, ...]] = (*Datastream.plain, "Thing", "ObservedProperty")


class DatastreamOfObservedProperty(Datastream):
    needs: ClassVar[tuple[str, ...]] = (*Datastream.plain, "Thing", "Sensor")


class MultiDatastream(_Named):
    plain: ClassVar[tuple[str, ...]] = ("name", "unitOfMeasurements", "multiObservationDataTypes")
    needs: ClassVar[tuple[str, ...]] = (*plain, "Thing", "Sensor", "ObservedProperties")
    observation_type: Text | None = Field(None, alias="observationType")
    unit_of_measurements: list[Unit] | None = Field(None, alias="unitOfMeasurements")
    multi_observation_data_types: list[Text] | None = Field(None, alias="multiObservationDataTypes")
    observed_area: JsonObject | None = Field(None, alias="observedArea")
    phenomenon_time: Interval | None = Field(None, alias="phenomenonTime")
    result_time: Interval | None = Field(None, alias="resultTime")
    thing: ThingIn | None = Field(None, alias="Thing")
    sensor: SensorIn | None = Field(None, alias="Sensor")
    observed_properties: list[ObservedPropertyIn] | None = Field(None, alias="ObservedProperties")
    observations: list[ObservationOfMultiDatastream] | None = Field(None, alias="Observations")


class MultiDatastreamOfThing(MultiDatastream):
    needs: ClassVar[tuple[str, ...]] = (*MultiDatastream.plain, "Sensor", "ObservedProperties")


class MultiDatastreamOfSensor(MultiDatastream):
    needs: ClassVar[tuple[str, ...]] = (*MultiDatastream.plain, "Thing", "ObservedProperties")


class Observation(_Entity):
    needs: ClassVar[tuple[str, ...]] = ("result",)
    plain: ClassVar[tuple[str, ...]] = needs
    stream_implied: ClassVar[bool] = False
    phenomenon_time: Interval | None = Field(None, alias="phenomenonTime")
    result_time: Instant | None = Field(None, alias="resultTime")
    valid_time: Interval | None = Field(None, alias="validTime")
    result: Any = None
    result_quality: Any = Field(None, alias="resultQuality")
    parameters: JsonObject | None = None
    datastream: Ref | None = Field(None, alias="Datastream")
    multi_datastream: Ref | None = Field(None, alias="MultiDatastream")
    feature_of_interest: FeatureOfInterestIn | None = Field(None, alias="FeatureOfInterest")

    @model_validator(mode="after")
    def _one_stream(self) -> Any:
        if (
            self.mode == "create"
            and not self.stream_implied
            and (self.datastream is None) == (self.multi_datastream is None)
        ):
            raise ValueError("an Observation needs exactly one of Datastream or MultiDatastream")
        return self


class ObservationOfDatastream(Observation):
    stream_implied = True


class ObservationOfMultiDatastream(Observation):
    stream_implied = True


class ObservationOfFeatureOfInterest(Observation):
    pass


class FeatureOfInterest(_Named):
    needs: ClassVar[tuple[str, ...]] = ("name", "encodingType", "feature")
    plain: ClassVar[tuple[str, ...]] = needs
    encoding_type: Name | None = Field(None, alias="encodingType")
    feature: JsonObject | None = None
    observations: list[ObservationOfFeatureOfInterest] | None = Field(None, alias="Observations")


class DataArrayGroup(BaseModel):
    """One item of ``CreateObservations``: a stream, the names of the columns, and the rows."""

    model_config = ConfigDict(extra="forbid")
    datastream: Ref | None = Field(None, alias="Datastream")
    multi_datastream: Ref | None = Field(None, alias="MultiDatastream")
    components: list[Name] = Field(min_length=1, max_length=20)
    data_array: list[Any] = Field(alias="dataArray", max_length=MAX_DATA_ARRAY_ROWS)

    @model_validator(mode="after")
    def _one_stream(self) -> Any:
        if (self.datastream is None) == (self.multi_datastream is None):
            raise ValueError("each item needs exactly one of Datastream or MultiDatastream")
        bad = [c for c in self.components if c not in DATA_ARRAY_COMPONENTS]
        if bad:
            raise ValueError(f"unknown components: {', '.join(bad)}")
        return self


DATA_ARRAY_COMPONENTS = frozenset(
    {
        "phenomenonTime",
        "result",
        "resultTime",
        "resultQuality",
        "validTime",
        "parameters",
        "FeatureOfInterest/id",
        "FeatureOfInterest/@iot.id",
    }
)

_ALL: tuple[type[BaseModel], ...] = (
    Thing,
    Location,
    HistoricalLocation,
    HistoricalLocationOfThing,
    Sensor,
    ObservedProperty,
    Datastream,
    DatastreamOfThing,
    DatastreamOfSensor,
    DatastreamOfObservedProperty,
    MultiDatastream,
    MultiDatastreamOfThing,
    MultiDatastreamOfSensor,
    Observation,
    ObservationOfDatastream,
    ObservationOfMultiDatastream,
    ObservationOfFeatureOfInterest,
    FeatureOfInterest,
    DataArrayGroup,
)
for _model in _ALL:
    _model.model_rebuild()

CREATE: dict[str, type[_Entity]] = {
    "Things": Thing,
    "Locations": Location,
    "HistoricalLocations": HistoricalLocation,
    "Sensors": Sensor,
    "ObservedProperties": ObservedProperty,
    "Datastreams": Datastream,
    "MultiDatastreams": MultiDatastream,
    "Observations": Observation,
    "FeaturesOfInterest": FeatureOfInterest,
}
# (entity set, the navigation link its parent fills in) → the model of an entity created under a parent
UNDER: dict[tuple[str, str], type[_Entity]] = {
    ("HistoricalLocations", "Thing"): HistoricalLocationOfThing,
    ("Datastreams", "Thing"): DatastreamOfThing,
    ("Datastreams", "Sensor"): DatastreamOfSensor,
    ("Datastreams", "ObservedProperty"): DatastreamOfObservedProperty,
    ("MultiDatastreams", "Thing"): MultiDatastreamOfThing,
    ("MultiDatastreams", "Sensor"): MultiDatastreamOfSensor,
    ("Observations", "Datastream"): ObservationOfDatastream,
    ("Observations", "MultiDatastream"): ObservationOfMultiDatastream,
    ("Observations", "FeatureOfInterest"): ObservationOfFeatureOfInterest,
}


def _variant(model: type[_Entity], mode: Mode) -> type[_Entity]:
    return type(f"{model.__name__}{mode.title()}", (model,), {"mode": mode, "__module__": __name__})


PATCH = {plural: _variant(model, "patch") for plural, model in CREATE.items()}
PUT = {plural: _variant(model, "put") for plural, model in CREATE.items()}


def depth_within(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when no object or array in ``value`` is nested deeper than ``limit`` (no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            if d > limit:
                return False
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            if d > limit:
                return False
            stack.extend((x, d + 1) for x in v)
    return True


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if part in (_REF, _NEW):
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _errors(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for e in exc.errors(include_url=False, include_input=False)[:MAX_ERRORS]:
        message = str(e["msg"]).removeprefix("Value error, ")
        out.append({"field": _field(tuple(e["loc"])), "message": message})
    return out


def validate(model: type[BaseModel], body: Any) -> None:
    """Check ``body`` against ``model``; raise :class:`BodyInvalid` naming each wrong field."""
    try:
        model.model_validate(body)
    except ValidationError as exc:
        raise BodyInvalid(_errors(exc)) from exc


def check_create(plural: str, body: Any, *, under: str | None = None) -> None:
    validate(UNDER.get((plural, under or ""), CREATE[plural]), body)


def check_patch(plural: str, body: Any) -> None:
    validate(PATCH[plural], body)


def check_put(plural: str, body: Any) -> None:
    validate(PUT[plural], body)
