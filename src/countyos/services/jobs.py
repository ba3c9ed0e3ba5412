"""Scheduled work of the services domain: the state-change webhooks' delivery (after commit, retried)."""

from __future__ import annotations

from countyos.services.service import webhooks

JOBS = [*webhooks.JOBS]
