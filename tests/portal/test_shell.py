"""The front door's shell: the 适老 large text kept in a cookie, the web-app manifest, the service worker
and the page it shows without a connection."""

from __future__ import annotations

import json

from tests.factories import csrf_from


def test_large_text_is_kept_and_only_leads_back_into_the_site(client):
    page = client.get("/portal")
    assert 'id="pt-font-large"' in page.text and '<body class="pt"' in page.text
    token = csrf_from(page.text)
    r = client.post(
        "/portal/large", data={"large": "1", "next": "/portal/notices", "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/portal/notices"
    shown = client.get("/portal/notices").text
    assert '<body class="pt pt-large"' in shown and 'id="pt-font-normal"' in shown
    away = client.post(
        "/portal/large", data={"large": "0", "next": "//evil.example/", "csrf_token": token}, follow_redirects=False
    )
    assert away.headers["location"] == "/portal" and '<body class="pt"' in client.get("/portal").text


def test_manifest_service_worker_and_offline_page(client):
    manifest = client.get("/portal/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = json.loads(manifest.text)
    assert body["start_url"] == "/portal" and body["scope"] == "/portal" and body["lang"] == "zh-CN"
    sw = client.get("/portal/sw.js")
    assert sw.headers["service-worker-allowed"] == "/portal" and sw.headers["cache-control"] == "no-cache"
    assert "/portal/me" in sw.text and "personal pages: the network only" in sw.text
    offline = client.get("/portal/offline")
    assert offline.status_code == 200 and 'id="pt-offline"' in offline.text
