"""Shared bits of the browser tests: Chromium launch flags, artifacts folder, request recorder."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page

PROJECT_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_DIR / ".data" / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class Recorder:
    """Every URL a page asked for and every script error it raised."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def outside(self) -> list[str]:
        return [url for url in self.urls if urlsplit(url).scheme not in ("data", "blob") and _host(url) != "127.0.0.1"]


def _host(url: str) -> str | None:
    return urlsplit(url).hostname
