"""Drive headless Chromium over `trio-steps timeline` output (HTML and SVG).

Usage (playwright installed in a separate venv, Debian's chromium):

    python3 -m venv /tmp/pw && /tmp/pw/bin/pip install playwright
    apt-get install -y chromium
    /tmp/pw/bin/python tools/check_timeline_in_browser.py /tmp/tl/service.html [more.html ...]
        [--svg /tmp/tl/service.svg ...]

For every HTML file: loads it, collects console errors / page errors / failed
requests, hovers over every step bar (rect.seg), diamond marker and step
label, and checks that the #tip box becomes visible, stays inside the
viewport, and shows the right step name, segment state and times (computed
from the bar's data-start/data-end and the svg's data-time-origin); checks the
row highlight; checks that leaving the chart hides the box; takes
screenshots. For every SVG file: loads it, checks for errors, counts the
bars and screenshots it. Exit status 1 if any check failed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, TypedDict, cast

from playwright.sync_api import Browser, Locator, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
OUT = Path("/tmp/timeline_shots")


class _Tip(TypedDict):
    """The #tip box as ``tip_state()`` reads it in the page."""

    display: str
    text: str
    left: float
    top: float
    right: float
    bottom: float
    vw: float
    vh: float


def fmt(value: float) -> str:
    return f"+{value:.3f} s"


def _collect_errors(page: Page) -> list[str]:
    """A list that fills with the page's console errors and warnings."""
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(f"console.{m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    return errors


def check_html(browser: Browser, path: Path, failures: list[str]) -> dict[str, int]:
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors = _collect_errors(page)
    page.on("requestfailed", lambda r: errors.append(f"requestfailed: {r.url}"))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    name = path.stem
    page.screenshot(path=str(OUT / f"{name}-page.png"), full_page=True)

    origin = float(page.get_attribute(".chart svg", "data-time-origin") or "nan")
    stats = {
        "bars": 0,
        "subpixel_skipped": 0,
        "markers": 0,
        "labels": 0,
        "rows": 0,
        "errors": 0,
    }

    def fail(msg: str) -> None:
        failures.append(f"{path.name}: {msg}")
        print("  FAIL", msg)

    def tip_state() -> _Tip:
        return cast(
            _Tip,
            page.evaluate(
                """() => { const t = document.getElementById('tip');
                 const r = t.getBoundingClientRect();
                 return {display: getComputedStyle(t).display, text: t.textContent,
                         left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                         vw: innerWidth, vh: innerHeight}; }"""
            ),
        )

    def highlighted() -> list[str]:
        return cast(
            "list[str]",
            page.evaluate(
                "() => [...document.querySelectorAll('g.step.hover')].map(g => g.dataset.step)"
            ),
        )

    def hover(x: float, y: float) -> _Tip:
        """Move the mouse off the chart, then to (x, y); the tip's state."""
        page.mouse.move(0, 0)
        page.mouse.move(x, y)
        return tip_state()

    def step_of(element: Locator) -> str:
        return cast(
            str,
            page.evaluate(
                "(el) => el.closest('g.step').dataset.step", element.element_handle()
            ),
        )

    def check_visible(tip: _Tip, what: str) -> bool:
        if tip["display"] == "none":
            fail(f"{what}: tip not shown")
            return False
        if tip["right"] > tip["vw"] + 0.5 or tip["bottom"] > tip["vh"] + 0.5:
            fail(f"{what}: tip outside the viewport {tip}")
        if tip["left"] < 0 or tip["top"] < 0:
            fail(f"{what}: tip outside the viewport {tip}")
        return True

    # Step names from the table: id -> name
    names: dict[str, str] = dict(
        page.evaluate(
            "() => [...document.querySelectorAll('tbody tr')].map("
            "tr => [tr.cells[0].textContent, tr.cells[1].textContent])"
        )
    )

    # step bars
    bars = page.locator("rect.seg")
    for i in range(bars.count()):
        bar = bars.nth(i)
        step = bar.get_attribute("data-step") or ""
        state = bar.get_attribute("data-segment")
        start = float(bar.get_attribute("data-start") or "nan")
        end = float(bar.get_attribute("data-end") or "nan")
        box = bar.bounding_box()
        what = f"bar {step}/{state}"
        if box is None:
            fail(f"{what}: no bounding box")
            continue
        y = box["y"] + box["height"] / 2
        width = float(bar.get_attribute("width") or "0")
        if width == 0 or (width < 1 and bar.get_attribute("stroke") is None):
            # a zero-length or sub-pixel span with a pattern fill (e.g. queued
            # and started at once): drawn without an outline, so it has no
            # pixel to hover (by design; sub-pixel colour fills get a stroke)
            stats["subpixel_skipped"] = stats.get("subpixel_skipped", 0) + 1
            print(f"  skip {what}: {width} px wide, nothing drawn to hover")
            continue
        # hover the middle of the bar; a bar about a pixel wide: try the
        # pixels around it (mouse events land on whole pixels)
        candidates = [box["x"] + box["width"] / 2]
        if box["width"] < 3:
            base = round(box["x"] + box["width"] / 2)
            candidates = [base, base - 1, base + 1, base - 0.5, base + 0.5]
        want = f"{state}: {fmt(start - origin)} → {fmt(end - origin)} ({end - start:.3f} s)"
        for x in candidates:
            if want in hover(x, y)["text"]:
                break
        top = page.evaluate(
            "([x, y]) => { const e = document.elementFromPoint(x, y);"
            " return e ? e.tagName + '.' + (e.getAttribute('class') || '') : null; }",
            [x, y],
        )
        tip = tip_state()
        stats["bars"] += 1
        before = len(failures)
        if not check_visible(tip, what):
            continue
        text = tip["text"]
        first = text.splitlines()[0] if text else ""
        expected_first = f"{names.get(step, '?')} ({step})"
        if first != expected_first:
            fail(f"{what}: first line {first!r}, expected {expected_first!r}")
        if want not in text:
            fail(f"{what}: {want!r} not in tip {text!r} (element at point: {top})")
        if highlighted() != [step]:
            fail(f"{what}: highlighted rows {highlighted()}")
        if len(failures) == before:
            print(f"  ok {what}: {want}")
        if stats["bars"] == 1:
            page.screenshot(path=str(OUT / f"{name}-hover-first.png"))
    if bars.count():
        page.screenshot(path=str(OUT / f"{name}-hover-last.png"))

    # control-step diamonds
    markers = page.locator("polygon.marker")
    for i in range(markers.count()):
        marker = markers.nth(i)
        step = marker.get_attribute("data-step") or ""
        t = float(marker.get_attribute("data-time") or "nan")
        box = marker.bounding_box()
        assert box is not None
        tip = hover(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        stats["markers"] += 1
        if check_visible(tip, f"marker {step}"):
            if highlighted() != [step]:
                fail(f"marker {step}: highlighted rows {highlighted()}")
            if f"finished {fmt(t - origin)}" not in tip["text"]:
                fail(f"marker {step}: tip {tip['text']!r}")
            else:
                print(f"  ok marker {step}: finished {fmt(t - origin)}")

    # step labels
    labels = page.locator("g.step text.label")
    for i in range(labels.count()):
        label = labels.nth(i)
        step = step_of(label)
        box = label.bounding_box()
        assert box is not None
        tip = hover(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        stats["labels"] += 1
        if check_visible(tip, f"label {step}"):
            first = tip["text"].splitlines()[0]
            if first != f"{names.get(step, '?')} ({step})":
                fail(f"label {step}: tip {tip['text']!r}")
            elif highlighted() != [step]:
                fail(f"label {step}: highlighted rows {highlighted()}")
            else:
                print(f"  ok label {step}")
    if labels.count():
        page.screenshot(path=str(OUT / f"{name}-hover-label.png"))

    # hovering the empty part of each row (right margin of the chart) shows
    # the step's details and highlights its row (odd rows included) and the
    # rows linked to it
    links = page.evaluate(
        "() => [...document.querySelectorAll('path.link')]"
        ".map(p => [p.dataset.from, p.dataset.to])"
    )
    rows = page.locator("g.step rect.row-bg")
    stats["rows"] = 0
    for i in range(rows.count()):
        bg = rows.nth(i)
        step = step_of(bg)
        box = bg.bounding_box()
        assert box is not None
        tip = hover(box["x"] + box["width"] - 8, box["y"] + box["height"] / 2)
        stats["rows"] += 1
        before = len(failures)
        if check_visible(tip, f"row {step}"):
            first = tip["text"].splitlines()[0]
            if first != f"{names.get(step, '?')} ({step})":
                fail(f"row {step}: tip {tip['text']!r}")
        if highlighted() != [step]:
            fail(f"row {step}: highlighted rows {highlighted()}")
        want = sorted(
            {b for a, b in links if a == step} | {a for a, b in links if b == step}
        )
        got = sorted(
            page.evaluate(
                "() => [...document.querySelectorAll('g.step.linked')].map(g => g.dataset.step)"
            )
        )
        if got != want:
            fail(f"row {step}: linked rows {got}, expected {want}")
        opacity = page.evaluate(
            "(el) => getComputedStyle(el).fillOpacity", bg.element_handle()
        )
        if float(opacity) < 0.1:
            fail(f"row {step}: hover highlight invisible (fill-opacity {opacity})")
        if len(failures) == before:
            print(f"  ok row {step}: highlighted, linked {got}")
        if i == 0:
            page.screenshot(path=str(OUT / f"{name}-hover-row.png"))

    titles = page.evaluate("() => document.querySelectorAll('.chart svg title').length")
    if titles:
        fail(
            f"{titles} <title> elements left: the browser would show its own tooltips too"
        )

    # leaving the chart hides the tip
    page.mouse.move(5, 5)
    if tip_state()["display"] != "none" or highlighted():
        fail("tip or highlight still shown after leaving the chart")

    # self-contained: no request but the page itself
    others = [u for u in requests if u != path.resolve().as_uri()]
    if others:
        fail(f"external requests: {others}")
    stats["errors"] = len(errors)
    for e in errors:
        fail(e)
    page.close()
    return stats


def check_svg(browser: Browser, path: Path, failures: list[str]) -> dict[str, int]:
    page = browser.new_page(viewport={"width": 1250, "height": 700})
    errors = _collect_errors(page)
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    info: dict[str, Any] = page.evaluate(
        """() => { const r = document.documentElement;
             return {root: r.tagName, ns: r.namespaceURI,
                     bars: document.querySelectorAll('rect.seg').length,
                     parsererror: document.getElementsByTagName('parsererror').length,
                     w: r.getBoundingClientRect().width}; }"""
    )
    # (full_page=True times out on a bare SVG document: use its own size)
    height = float(
        page.evaluate("() => document.documentElement.getAttribute('height')")
    )
    page.set_viewport_size({"width": 1250, "height": int(height) + 10})
    page.screenshot(path=str(OUT / f"{path.stem}-svg.png"))
    print(f"  svg {info}")
    if info["root"] != "svg" or info["parsererror"] or not info["bars"]:
        failures.append(f"{path.name}: SVG did not render: {info}")
    for e in errors:
        failures.append(f"{path.name}: {e}")
    page.close()
    return {"bars": info["bars"], "errors": len(errors)}


def main(argv: list[str]) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    htmls = [Path(a) for a in argv if a.endswith(".html")]
    svgs = [Path(a) for a in argv if a.endswith(".svg")]
    failures: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        print(f"browser {browser.version}")
        for path in htmls:
            print(f"HTML {path}")
            print(f"  -> {check_html(browser, path, failures)}")
        for path in svgs:
            print(f"SVG {path}")
            print(f"  -> {check_svg(browser, path, failures)}")
        browser.close()
    print(f"screenshots in {OUT}: {sorted(q.name for q in OUT.glob('*.png'))}")
    print(f"{len(failures)} failure(s)")
    for f in failures:
        print("  " + re.sub(r"\s+", " ", f))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
