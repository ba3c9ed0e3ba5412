"""Copy the front-end libraries installed by npm (package.json + package-lock.json) into the
package's static folder, so that CountyOS serves them itself (county intranets have no internet)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node_modules"
VENDOR = ROOT / "src" / "countyos" / "web" / "static" / "vendor"

FILES = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "@alpinejs/csp/dist/cdn.min.js": "alpine-csp.min.js",
    "echarts/dist/echarts.min.js": "echarts.min.js",
    "maplibre-gl/dist/maplibre-gl.mjs": "maplibre-gl.mjs",
    "maplibre-gl/dist/maplibre-gl-shared.mjs": "maplibre-gl-shared.mjs",
    "maplibre-gl/dist/maplibre-gl-worker.mjs": "maplibre-gl-worker.mjs",
    "maplibre-gl/dist/maplibre-gl.css": "maplibre-gl.css",
}


def main() -> int:
    missing = [src for src in FILES if not (NODE / src).is_file()]
    if missing:
        print("Missing front-end packages; run `npm ci` first:", ", ".join(missing), file=sys.stderr)
        return 1
    VENDOR.mkdir(parents=True, exist_ok=True)
    for src, dst in FILES.items():
        shutil.copyfile(NODE / src, VENDOR / dst)
    print(f"Copied {len(FILES)} files into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
