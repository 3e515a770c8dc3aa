"""Our own endpoints: health, the layer list, the home page."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from geo.registry import REGISTRY


def test_healthz_reports_postgis_to_staff(client: httpx.Client, staff_headers: Callable[..., dict]) -> None:
    response = client.get("/healthz", headers=staff_headers("city_leader"))  # the public gets no versions
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["postgis"].startswith("3.")


def test_layers_endpoint_lists_the_registry_with_counts(client: httpx.Client) -> None:
    body = client.get("/api/layers").json()
    assert [layer["id"] for layer in body] == list(REGISTRY)
    by_id = {layer["id"]: layer for layer in body}
    assert by_id["admin_units"]["rows_loaded"] == 41
    assert by_id["citizen_reports"]["rows_loaded"] is None  # no report history loaded by the foundation


def test_home_page_in_both_languages(client: httpx.Client) -> None:
    vi = client.get("/")
    assert vi.status_code == 200 and "Các lớp dữ liệu" in vi.text and "Đơn vị hành chính" in vi.text
    en = client.get("/", params={"lang": "en"})
    assert "Layers" in en.text and "Administrative units" in en.text
    assert client.get("/", params={"lang": "fr"}).status_code == 422


def test_home_page_links_come_from_the_public_url_not_the_host_header(client: httpx.Client, server: str) -> None:
    forged = client.get("/", headers={"Host": "evil.example"})
    assert forged.status_code == 200
    assert "evil.example" not in forged.text
    assert f"{server.rstrip('/')}/ogc" in forged.text  # the test server's HUEGIS_PUBLIC_URL


def test_openapi_docs_are_served_from_local_assets(client: httpx.Client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/redoc").status_code == 404  # not vendored: its page would load a CDN and Google Fonts
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/healthz", "/api/layers", "/api/admin-units/at"} <= set(paths)
