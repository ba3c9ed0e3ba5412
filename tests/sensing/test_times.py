"""Times as SensorThings writes them: a column formatted at once says exactly what one by one says."""

from __future__ import annotations

import random

from countyos.sensing.service.times import iso, iso_many, parse_iso


def test_a_column_of_times_reads_as_each_time_alone() -> None:
    rng = random.Random(13)
    whole = [rng.randrange(946_684_800, 4_102_444_800) * 1_000_000 for _ in range(300)]
    millis = [w + rng.randrange(1, 1000) * 1000 for w in whole]
    micros = [w + rng.randrange(1, 1_000_000) for w in whole]
    early = [-1_500_000, -1_000, 0, 1]  # before and at the epoch
    mixed = whole + millis + micros + early
    rng.shuffle(mixed)
    assert iso_many(mixed) == [iso(v) for v in mixed]
    assert iso_many([]) == []


def test_each_precision_is_shown_only_when_present() -> None:
    t = parse_iso("2026-12-03T08:00:00Z")
    assert iso_many([t, t + 5_000, t + 5]) == [
        "2026-12-03T08:00:00Z",
        "2026-12-03T08:00:00.005Z",
        "2026-12-03T08:00:00.000005Z",
    ]
