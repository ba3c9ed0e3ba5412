"""One typed settings object, read from ``COUNTYOS_*`` environment variables or a TOML file.

The TOML file is named by ``COUNTYOS_CONFIG`` (default ``./countyos.toml`` when present). Outside
development mode the settings refuse placeholder secrets, so a county never runs production with
the demo key.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "dev-secret-change-me", "secret"})
DEV_SECRET = "dev-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COUNTYOS_", extra="forbid", validate_default=True)

    env: Literal["dev", "test", "prod"] = "dev"
    database_url: str = "sqlite:///./countyos.db"
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    data_dir: Path = Path("./data")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    county_name: str = "演示县"
    default_locale: Literal["zh_CN", "en"] = "zh_CN"
    timezone: str = "Asia/Shanghai"
    office_hours: str = "08:30-12:00,13:30-17:30"  # working time of working days (core.workcal)
    calendar_dir: Path | None = None  # extra <year>.toml holiday files (core.workcal)
    public_url: str = "http://127.0.0.1:8000"
    tls: bool = False

    password_min_length: int = Field(8, ge=8, le=128)
    password_min_classes: int = Field(3, ge=1, le=4)
    password_max_age_days: int = Field(90, ge=0)
    lockout_threshold: int = Field(5, ge=1)
    lockout_minutes: int = Field(30, ge=1)
    session_idle_minutes: int = Field(30, ge=1)
    session_absolute_hours: int = Field(12, ge=1)
    login_rate_per_minute: int = Field(20, ge=1)
    # Open311 POSTs per client address and minute; 0 turns the limit off (for an app server that posts
    # for many citizens from one address, better given its own address allowance by a reverse proxy)
    open311_posts_per_minute: int = Field(120, ge=0)
    mfa_required_roles: list[str] = ["sysadmin", "secadmin", "auditadmin"]
    audit_retention_days: int = Field(180, ge=180)

    run_jobs: bool = True
    # Modules switched off by configuration (programme.service.modules: e.g. ["eco", "village"]): no routes,
    # navigation, jobs or tiles, and the system administrator cannot switch them on in the browser.
    modules_off: list[str] = []
    mqtt_url: str | None = None
    sta_public_read: bool = True  # SensorThings reads without credentials (writes always need them)
    # Bounds of one SensorThings read; a request past one is a 400 that names it (docs/sensing.md)
    sta_max_expand_depth: int = Field(4, ge=1, le=16)  # levels of $expand, nested or as a path
    sta_max_entities: int = Field(20_000, ge=10)  # entities one response may hold, expanded ones included
    sta_max_top: int = Field(10_000, ge=1)  # $top, also inside $expand
    sta_max_skip: int = Field(1_000_000, ge=0)  # $skip (past it: page with $filter on a time or id)
    sta_max_query_length: int = Field(16_384, ge=1_024)  # characters of all query options together
    sta_query_seconds: float = Field(20.0, gt=0)  # database time of one read request
    # Threads that run SensorThings reads at once (the others wait their turn); none: 2 on SQLite,
    # where a read is the server's own Python work, 4 on PostgreSQL, where it also waits for the
    # database server. More threads than that only switch between each other (docs/sensing.md).
    sta_read_threads: int | None = Field(None, ge=1, le=64)

    # Map base layer (geo.service.basemap, docs/geo.md "Base layer"), always served by CountyOS itself
    # at /api/v1/geo/tiles/{z}/{x}/{y}.png, so browsers never reach another origin:
    # - a local MBTiles file (default <data_dir>/basemap.mbtiles, written by `countyos geo basemap`
    #   from the county's own records; `countyos demo` makes one): works without internet;
    # - or an upstream XYZ/WMTS template with {z}/{x}/{y} (the county's tile server, 天地图 with its
    #   key), fetched by the server and kept in <data_dir>/tilecache.mbtiles. `map_tile_crs` says
    #   the coordinate system of its pictures: 天地图 is CGCS2000 (≈ WGS-84, no shift); GCJ-02 sources
    #   (高德/腾讯) get every overlay shifted to match.
    map_tile_url: str | None = None
    map_tile_crs: Literal["wgs84", "cgcs2000", "gcj02"] = "cgcs2000"
    map_tile_attribution: str = ""
    map_tile_min_zoom: int = Field(0, ge=0, le=22)
    map_tile_max_zoom: int = Field(18, ge=0, le=22)
    map_mbtiles: Path | None = None  # default: <data_dir>/basemap.mbtiles

    # Notifications beyond the in-app inbox (cases.service.notify), as data: which kinds of message
    # (assigned, yellow, red, supervision, status) also go out on which channels, and where to.
    # e.g. COUNTYOS_NOTIFY_CHANNELS='{"red": ["sms", "wecom"], "supervision": ["sms"]}'
    notify_channels: dict[str, list[Literal["webhook", "sms", "wecom", "dingtalk"]]] = {}
    notify_webhook_url: str | None = None  # JSON {"title", "body", "kind", "case_id", "url"} POSTed here
    notify_wecom_url: str | None = None  # 企业微信群机器人 webhook URL
    notify_dingtalk_url: str | None = None  # 钉钉群机器人 webhook URL
    notify_sms_url: str | None = None  # the county's SMS gateway: POST {"phone", "text"} (政务短信平台)
    notify_sms_token: SecretStr | None = None  # sent as "Authorization: Bearer …" to the SMS gateway
    # How the residents' portal sends its sign-in codes (portal.service.sms): "gateway" posts to
    # notify_sms_url; "console" prints them on the server's console (development only: refused in
    # prod). Unset: the gateway when notify_sms_url is set, else the console outside prod.
    portal_sms: Literal["console", "gateway"] | None = None
    # Government services (services.service.webhooks): every state change of an application (办件) is
    # POSTed as JSON to each URL, signed with HMAC-SHA256 of the body under this secret in the header
    # X-CountyOS-Signature ("sha256=<hex>"); e.g. the province's 一体化政务服务平台 connector.
    services_webhook_urls: list[str] = []
    services_webhook_secret: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, v: str) -> str:
        if not (v.startswith("sqlite:") or v.startswith("postgresql")):
            raise ValueError("database_url must start with sqlite:/// or postgresql+psycopg://")
        return v

    @field_validator("services_webhook_urls")
    @classmethod
    def _webhook_urls(cls, v: list[str]) -> list[str]:
        for url in v:
            if not url.startswith(("http://", "https://")) or len(url) > 500:
                raise ValueError(f"a services webhook URL must be http(s) and at most 500 characters: {url!r}")
        return v

    @model_validator(mode="after")
    def _webhooks_signed(self) -> Settings:
        if self.services_webhook_urls and self.services_webhook_secret is None:
            raise ValueError("services_webhook_urls needs services_webhook_secret (the receivers check the signature)")
        return self

    @field_validator("office_hours")
    @classmethod
    def _office_hours(cls, v: str) -> str:
        from countyos.core.workcal import parse_office_hours

        parse_office_hours(v)
        return v

    @field_validator("secret_key")
    @classmethod
    def _refuse_placeholder_secrets(cls, v: SecretStr, info: ValidationInfo) -> SecretStr:
        if info.data.get("env") != "prod":
            return v
        if v.get_secret_value().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "secret_key is a placeholder; set COUNTYOS_SECRET_KEY to a long random value "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if len(v.get_secret_value()) < 32:
            raise ValueError("secret_key must be at least 32 characters outside development mode")
        return v

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get("COUNTYOS_CONFIG", "countyos.toml")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if Path(path).is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
