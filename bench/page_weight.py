"""Bytes a browser transfers on a page's first load (headers and bodies as sent, workers included).

    .venv/bin/python -m bench.page_weight http://127.0.0.1:8000 /portal /emergency /maps/overview

Headless Chromium (Debian's, driven by playwright) at 1280x800 with an empty cache opens each page,
waits until the network is idle and 3 s more, and sums Playwright's ``request.sizes()`` of every
finished request (``responseHeadersSize + responseBodySize``: what crossed the wire, compressed
or not) and the bodies' uncompressed length. Prints the totals and the largest requests per page.
The README's before/after figures.
"""

from __future__ import annotations

import sys

from playwright.sync_api import Request, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def page_weight(base: str, path: str, *, width: int = 1280, height: int = 800) -> list[tuple[int, int, str]]:
    """(bytes sent, body bytes uncompressed, URL) of every request the first load of ``base + path``
    made, largest first."""
    finished: list[Request] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": width, "height": height}).new_page()
        page.on("requestfinished", lambda request: finished.append(request))
        page.goto(base + path, wait_until="networkidle", timeout=120_000)
        page.wait_for_timeout(3000)
        sizes = [(_sent(r), _uncompressed(r), r.url) for r in finished]
        browser.close()
    return sorted(sizes, reverse=True)


def _sent(request: Request) -> int:
    sizes = request.sizes()
    return sizes["responseHeadersSize"] + sizes["responseBodySize"]


def _uncompressed(request: Request) -> int:
    response = request.response()
    try:
        return len(response.body()) if response else 0
    except Exception:  # a body the browser no longer holds (a redirect, a worker's fetch)
        return 0


def main(argv: list[str]) -> None:
    base, paths = argv[0].rstrip("/"), argv[1:] or ["/portal", "/emergency", "/maps/overview"]
    for path in paths:
        sizes = page_weight(base, path)
        sent, plain = sum(s for s, _, _ in sizes), sum(u for _, u, _ in sizes)
        print(f"{path:20} {sent:>12,} bytes sent ({plain:,} uncompressed) in {len(sizes)} requests")
        for size, body, url in sizes[:8]:
            print(f"     {size:>10,} {body:>11,} {url[:100]}")


if __name__ == "__main__":
    main(sys.argv[1:])
