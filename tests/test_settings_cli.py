"""Settings from a TOML file and environment; `countyos config check` says exactly what is wrong."""

from __future__ import annotations

from typer.testing import CliRunner

from countyos.cli import app as cli
from countyos.core.settings import Settings, reset_settings


def test_toml_file_is_read_and_environment_wins(tmp_path, monkeypatch):
    cfg = tmp_path / "countyos.toml"
    cfg.write_text('county_name = "遂昌县"\nport = 8080\nsession_idle_minutes = 20\n', encoding="utf-8")
    monkeypatch.setenv("COUNTYOS_CONFIG", str(cfg))
    monkeypatch.setenv("COUNTYOS_PORT", "9090")
    s = Settings()
    assert s.county_name == "遂昌县" and s.session_idle_minutes == 20 and s.port == 9090


def test_config_check_names_each_bad_setting(monkeypatch):
    monkeypatch.setenv("COUNTYOS_ENV", "prod")
    monkeypatch.setenv("COUNTYOS_SECRET_KEY", "change-me")
    monkeypatch.setenv("COUNTYOS_PORT", "70000")
    reset_settings()
    try:
        r = CliRunner().invoke(cli, ["config", "check"])
    finally:
        monkeypatch.undo()
        reset_settings()
    assert r.exit_code == 2
    assert "COUNTYOS_PORT" in r.output
    assert "placeholder" in r.output or "COUNTYOS_SECRET_KEY" in r.output


def test_config_check_passes_on_the_test_database(db):
    r = CliRunner().invoke(cli, ["config", "check"])
    assert r.exit_code == 0, r.output
    assert "Configuration OK" in r.output


def test_unknown_setting_is_refused(tmp_path, monkeypatch):
    cfg = tmp_path / "countyos.toml"
    cfg.write_text('county_nmae = "typo"\n', encoding="utf-8")
    monkeypatch.setenv("COUNTYOS_CONFIG", str(cfg))
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="county_nmae"):
        Settings()
