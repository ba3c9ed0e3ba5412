"""A real CountyOS server for the fault suite: ``countyos serve`` in its own process on a free loopback
port, against a database file (or a PostgreSQL database) that outlives it, killed by its pid."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SCALE = os.environ.get("COUNTYOS_SCALE", "ci")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    database_url: str
    data_dir: Path
    mqtt_url: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTYOS_")}
        env.update(
            COUNTYOS_ENV="test",
            COUNTYOS_SECRET_KEY=os.environ["COUNTYOS_SECRET_KEY"],  # tokens made by the test stay valid
            COUNTYOS_DATABASE_URL=self.database_url,
            COUNTYOS_DATA_DIR=str(self.data_dir),
            COUNTYOS_RUN_JOBS="true",  # the scheduler and, with mqtt_url, the MQTT bridge run inside
            PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        )
        if self.mqtt_url:
            env["COUNTYOS_MQTT_URL"] = self.mqtt_url
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> None:
        log = (self.data_dir / f"server-{self.starts}.log").open("wb")
        self.starts += 1
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "countyos"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=self.data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.process.poll() is None, f"the server exited: see {log.name}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=2).status_code in (200, 503):
                    return
            time.sleep(0.1)
        raise AssertionError("the server did not answer /healthz")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no goodbye."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.data_dir.glob("server-*.log")))
