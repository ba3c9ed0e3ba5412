"""Disk full: writes fail with a clear 503, nothing is corrupted, service resumes when space returns.

The database lives on a 16 MB tmpfs (the test command runs as root, which mounting needs).
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from countyos import domains
from countyos.app import create_app
from countyos.core import migrate
from countyos.core.db import Database
from countyos.core.settings import get_settings
from countyos.org import flows
from countyos.org.service import audit
from tests.conftest import IS_POSTGRES
from tests.factories import login, person

pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="the disk-full case of PostgreSQL is its own server's")


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(mnt: Path) -> Path:
    filler = mnt / "filler.bin"
    with filler.open("wb", buffering=0) as f:  # unbuffered: nothing left to write when it is closed
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    return filler


def test_writes_fail_cleanly_when_the_disk_is_full_and_resume_after(small_disk, settings):
    url = f"sqlite:///{small_disk / 'countyos.db'}"
    migrate.upgrade(url)
    db = Database(url)
    with db.unit_of_work() as s:
        flows.bootstrap(
            s, permissions=domains.all_permissions(), role_specs=domains.all_roles(), grants=domains.all_grants()
        )
    admin = person(db, ["sysadmin"])
    app = create_app(get_settings(), db)
    with TestClient(app) as client:
        h = {"X-CSRF-Token": login(client, admin)}
        ok = client.post("/api/v1/departments", json={"name": "满盘前的部门", "kind": "department"}, headers=h)
        assert ok.status_code == 201
        filler = fill(small_disk)
        failures = 0
        for i in range(40):  # enough rows to need new pages
            r = client.post(
                "/api/v1/departments",
                json={"name": f"满盘部门{i}-{uuid.uuid4().hex * 2}", "kind": "department", "phone": "0" * 40},
                headers=h,
            )
            assert r.status_code in (201, 503), r.text
            if r.status_code == 503:
                failures += 1
                body = r.json()
                assert body["code"] == "service_unavailable"
                assert "磁盘" in body["detail"] or "disk" in body["detail"].lower()
        assert failures > 0, "the disk never filled up"
        filler.unlink()
        after = client.post("/api/v1/departments", json={"name": "恢复后的部门", "kind": "department"}, headers=h)
        assert after.status_code == 201
        names = [d["name"] for d in client.get("/api/v1/departments", params={"limit": 500}).json()["items"]]
        assert "满盘前的部门" in names and "恢复后的部门" in names
    with db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    with db.reading() as s:
        assert audit.verify(s).ok
    db.dispose()
