"""Point lookup throughput: CountyOS's ``locate_many`` against a bare shapely STRtree query.

Builds the demo county (遂昌县 331123, bootstrapped offline, grids generated at the demo cell size) in
a temporary SQLite database, then locates N random points inside the county's bounding box
(default 1,000,000) both ways on the same grid geometries and prints points/s and the ratio.

    .venv/bin/python bench/geo_lookup.py [--points 1000000] [--repeat 3] [--cell 1000]

The bare baseline is what any code would at least do: ``shapely.points`` (garbage collection paused,
its best case) + ``STRtree.query(..., predicate="intersects")``. CountyOS's lookup also checks the
geometry stamp, breaks ties on shared edges by the lowest code and resolves village, township and
outside-the-county; it answers most points from a precomputed raster of boundary-free cells and the
rest exactly (see countyos.geo.service.lookup). Both must find the same number of points in a grid.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cell", type=float, default=1000.0, help="grid cell size in metres")
    ap.add_argument("--county", default="331123")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="countyos-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    os.environ["COUNTYOS_DATABASE_URL"] = url
    os.environ.setdefault("COUNTYOS_ENV", "test")
    os.environ.setdefault("COUNTYOS_SECRET_KEY", "bench-secret-key-with-enough-length-0123456789")

    from countyos.core import migrate
    from countyos.core.actor import Actor
    from countyos.core.db import Database
    from countyos.geo.service import divisions, grids, locate_many
    from countyos.geo.service.lookup import index

    migrate.upgrade(url)
    db = Database(url)
    actor = Actor(id=None, name="bench")
    with db.unit_of_work() as s:
        divisions.bootstrap(s, actor=actor, county_code=args.county)
        made = grids.generate(s, actor=actor, cell_m=args.cell)
    rng = np.random.default_rng(20261127)
    with db.reading() as s:
        ix = index(s)
        minx, miny, maxx, maxy = ix.county_geom.bounds
        lons = rng.uniform(minx, maxx, args.points)
        lats = rng.uniform(miny, maxy, args.points)
        bare_tree = shapely.STRtree(list(ix.grid_geoms))  # same geometries, same order

        def bare() -> int:
            gc.disable()  # the baseline's best case: no collections while a million Points are made
            try:
                pts = shapely.points(lons, lats)
            finally:
                gc.enable()
            inp, _hit = bare_tree.query(pts, predicate="intersects")
            return len(np.unique(inp))

        def countyos() -> int:
            batch = locate_many(s, lons, lats)
            return int((batch.grid >= 0).sum())

        bare_t, ours_t = [], []
        found_bare = found_ours = 0
        for _ in range(args.repeat):  # interleaved, so both see the same machine state
            t0 = time.perf_counter()
            found_bare = bare()
            bare_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            found_ours = countyos()
            ours_t.append(time.perf_counter() - t0)
        # Same answers, point by point: the lowest-code grid each point intersects.
        inp, hit = bare_tree.query(shapely.points(lons, lats), predicate="intersects")
        expected = np.full(args.points, -1, dtype=np.int64)
        order = np.lexsort((-hit, inp))  # per point, the lowest index written last
        expected[inp[order]] = hit[order]
        same = bool((expected == locate_many(s, lons, lats).grid).all())
    db.dispose()
    b, o = statistics.median(bare_t), statistics.median(ours_t)
    print(
        f"county {args.county}: {made.grids} grids ({args.cell:.0f} m cells), {args.points:,} random points "
        f"in its bounding box, median of {args.repeat}"
    )
    print(f"  bare STRtree query : {b:.3f} s  {args.points / b:,.0f} points/s  ({found_bare:,} points in a grid)")
    print(f"  CountyOS locate_many: {o:.3f} s  {args.points / o:,.0f} points/s  ({found_ours:,} points in a grid)")
    print(f"  ratio CountyOS / bare = {b / o:.2f}  (target >= 0.8; absolute target >= 1,000,000 points/s)")
    print(f"  same grid for every point: {'yes' if same else 'NO'}")
    if found_bare != found_ours or not same:
        print("  MISMATCH between CountyOS and the bare query", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
