"""A real Mosquitto broker on a free loopback port, for the MQTT tests (killed by its pid)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Broker:
    port: int
    folder: Path
    pid: int | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def persistence(self) -> str:
        """The broker's persistence lines (none: what it queued is lost when it stops)."""
        return "persistence false\n"

    def start(self) -> None:
        conf = self.folder / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n{self.persistence()}"
            f"pid_file {self.folder}/mosquitto.pid\nlog_dest file {self.folder}/mosquitto.log\n"
            "max_queued_messages 1000000\nmax_inflight_messages 0\n"
        )
        if os.geteuid() == 0:
            shutil.chown(self.folder, "mosquitto")
            for f in self.folder.iterdir():
                shutil.chown(f, "mosquitto")
        subprocess.run(["mosquitto", "-c", str(conf), "-d"], check=True)
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        for _ in range(50):
            pid_file = self.folder / "mosquitto.pid"
            if pid_file.exists() and pid_file.read_text().strip():
                self.pid = int(pid_file.read_text().strip())
                break
            time.sleep(0.05)

    def stop(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            for _ in range(100):
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            self.pid = None
            (self.folder / "mosquitto.pid").unlink(missing_ok=True)


def available() -> bool:
    return shutil.which("mosquitto") is not None


def subscribed(client: Any) -> threading.Event:
    """An event set when the broker has acknowledged a subscription of the paho CLIENT (install
    before the client subscribes): what a test waits for before publishing to it."""
    event = threading.Event()
    client.on_subscribe = lambda *_args: event.set()
    return event
