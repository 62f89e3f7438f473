"""The timeline picture: geometry checked by parsing the SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import trio
import trio.testing

import trio_steps as ts
from trio_steps._results import CaseInsensitiveMapping
from trio_steps._trace._timeline import render_timeline

from .trace_fixtures import handmade_report, work

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode())


def _segments(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    found: dict[tuple[str, str], ET.Element] = {}
    for rect in root.iter(f"{SVG}rect"):
        if "data-segment" in rect.attrib:
            key = (rect.attrib["data-step"], rect.attrib["data-segment"])
            assert key not in found
            found[key] = rect
    return found


def _check_geometry(root: ET.Element, rect: ET.Element) -> tuple[float, float]:
    """The rect's x and width map back to its data-start and data-end."""
    origin_x = float(root.attrib["data-origin-x"])
    origin_t = float(root.attrib["data-time-origin"])
    scale = float(root.attrib["data-px-per-second"])
    start = origin_t + (float(rect.attrib["x"]) - origin_x) / scale
    end = start + float(rect.attrib["width"]) / scale
    tolerance = 0.002 / scale  # coordinates are written to 1/1000 px
    assert start == pytest.approx(float(rect.attrib["data-start"]), abs=tolerance)
    assert end == pytest.approx(float(rect.attrib["data-end"]), abs=2 * tolerance)
    return start, end


def test_every_segment_is_where_the_report_says() -> None:
    report = handmade_report()
    root = _parse(render_timeline(report))
    segments = _segments(root)
    assert set(segments) == {
        ("server", "queued"),  # zero-length: launched and started at 0
        ("server", "running"),
        ("server", "stopping"),
        ("build", "running"),
        ("lint", "queued"),
        ("lint", "running"),
        ("test", "running"),
        ("stop", "running"),
        ("wait", "running"),
    }
    expected = {
        ("server", "running"): (0.0, 3.0),
        ("server", "stopping"): (3.0, 3.5),
        ("lint", "queued"): (2.0, 3.5),
        ("lint", "running"): (3.5, 4.5),
        ("build", "running"): (0.0, 2.0),
        ("wait", "running"): (3.5, 4.5),
    }
    for key, rect in segments.items():
        _check_geometry(root, rect)
        if key in expected:
            assert (
                float(rect.attrib["data-start"]),
                float(rect.attrib["data-end"]),
            ) == (expected[key])
    # the fills tell the spans apart
    fills = {key: rect.attrib["fill"] for key, rect in segments.items()}
    assert fills["lint", "queued"] != fills["lint", "running"]
    assert fills["server", "stopping"] != fills["server", "running"]
    assert (
        fills["server", "running"] != fills["build", "running"]
    )  # CANCELED vs SUCCEEDED


def test_rows_are_in_declared_order_and_skipped_steps_have_no_bar() -> None:
    report = handmade_report()
    root = _parse(render_timeline(report))
    groups = [g for g in root.iter(f"{SVG}g") if g.attrib.get("class") == "step"]
    assert [g.attrib["data-step"] for g in groups] == list(report.steps)
    rows = [float(g.find(f"{SVG}text").attrib["y"]) for g in groups]  # type: ignore[union-attr]
    assert rows == sorted(rows)
    skipped = groups[list(report.steps).index("skipme")]
    assert skipped.find(f"{SVG}rect[@data-segment]") is None
    assert "skipped" in "".join(skipped.itertext())


def test_control_steps_are_linked_to_the_steps_they_completed() -> None:
    root = _parse(render_timeline(handmade_report()))
    links = {
        (p.attrib["data-from"], p.attrib["data-to"])
        for p in root.iter(f"{SVG}path")
        if p.attrib.get("class") == "link"
    }
    assert links == {("server", "stop"), ("lint", "wait")}
    markers = {
        m.attrib["data-step"]: float(m.attrib["data-time"])
        for m in root.iter(f"{SVG}polygon")
        if m.attrib.get("class") == "marker"
    }
    assert markers == {"stop": 3.5, "wait": 4.5}
    signals = [
        s.attrib["data-signal"]
        for s in root.iter(f"{SVG}polygon")
        if s.attrib.get("class") == "signal"
    ]
    assert signals == ["SIGINT"]


def test_header_shows_the_job_result_and_axis_has_ticks() -> None:
    root = _parse(render_timeline(handmade_report()))
    assert root.attrib["data-result"] == "SUCCEEDED"
    text = " ".join(root.itertext())
    assert "result SUCCEEDED (success)" in text
    assert "makespan 4.500 s" in text
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.attrib.get("class") == "tick"]
    assert ticks == ["0 s", "1 s", "2 s", "3 s", "4 s"]  # a 1-2-5 step


def _many_steps(count: int, name_length: int = 10) -> ts.JobReport:
    steps = {}
    for i in range(count):
        steps[f"s{i}"] = ts.StepReport(
            id=f"s{i}",
            name=f"{i:03d}" + "x" * name_length,
            kind="run",
            outcome=ts.Result.SUCCEEDED,
            conclusion=ts.Result.SUCCEEDED,
            started_at=float(i),
            finished_at=float(i + 1),
        )
    return ts.JobReport(result=ts.Result.SUCCEEDED, steps=CaseInsensitiveMapping(steps))


def test_three_hundred_steps_stay_readable() -> None:
    small = _parse(render_timeline(_many_steps(3)))
    large = _parse(render_timeline(_many_steps(300, name_length=200)))
    assert float(small.attrib["width"]) == float(large.attrib["width"])
    small_font = float(small.attrib["font-size"])
    large_font = float(large.attrib["font-size"])
    assert 7 <= large_font < small_font <= 13
    assert 300 * 9 <= float(large.attrib["height"]) <= 300 * 26 + 400
    labels = [
        t for t in large.iter(f"{SVG}text") if (t.attrib.get("class") or "") == "label"
    ]
    assert len(labels) == 300
    shown = "".join(labels[7].itertext()).replace(labels[7][0].text or "", "")
    assert shown.endswith("…")
    assert len(shown) * large_font * 0.6 <= 260  # fits the label column
    assert "007" + "x" * 200 in (labels[7][0].text or "")  # full name in the tooltip
    # every bar is still exact
    for rect in _segments(large).values():
        _check_geometry(large, rect)
    # a long chart repeats the axis labels at the bottom
    ticks = [
        t.text for t in large.iter(f"{SVG}text") if t.attrib.get("class") == "tick"
    ]
    assert ticks[::2] == ticks[1::2] == [f"{50 * k} s" for k in range(7)]


def test_names_are_escaped() -> None:
    step = ts.StepReport(
        id="x", name='<b>&"quoted"</b>', kind="run", started_at=0.0, finished_at=1.0
    )
    report = ts.JobReport(
        result=ts.Result.SUCCEEDED, steps=CaseInsensitiveMapping({"x": step})
    )
    root = _parse(render_timeline(report))
    assert '<b>&"quoted"</b>' in "".join(root.itertext())


def test_an_empty_report_still_renders() -> None:
    report = ts.JobReport(result=ts.Result.SUCCEEDED, steps=CaseInsensitiveMapping({}))
    root = _parse(render_timeline(report))
    assert root.tag == f"{SVG}svg"


def test_html_is_self_contained_with_hover_details() -> None:
    page = render_timeline(handmade_report(), format="html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script>" in page
    assert "<style>" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<svg" in page
    assert "mousemove" in page
    # the step table
    assert "<td>lint</td>" in page


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="'svg' or 'html'"):
        render_timeline(handmade_report(), format="png")  # type: ignore[arg-type]


async def test_engine_run_bars_match_exact_virtual_times(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """R4.2, R4.6, R6.3: queued, running and stopping spans of a real run."""
    job = ts.Job(
        [
            ts.Step(work(100, ignore_stop=1.5), id="server", background=True),
            ts.Step(work(2), id="build", background=True),
            ts.Step(work(1), id="test"),
            ts.Cancel("server", id="stop"),
            ts.Wait("build", id="wait_build"),
        ],
        max_background=1,
    )
    report = await ts.run_job(job)
    root = _parse(render_timeline(report))
    segments = _segments(root)
    spans = {
        key: (float(r.attrib["data-start"]), float(r.attrib["data-end"]))
        for key, r in segments.items()
    }
    # build waits for the only slot until server has stopped (1 + 1.5 s)
    assert spans["build", "queued"] == (0.0, 2.5)
    assert spans["build", "running"] == (2.5, 4.5)
    assert spans["server", "running"] == (0.0, 1.0)
    assert spans["server", "stopping"] == (1.0, 2.5)
    assert spans["stop", "running"] == (1.0, 2.5)
    assert spans["wait_build", "running"] == (2.5, 4.5)
    for rect in segments.values():
        _check_geometry(root, rect)
    await trio.lowlevel.checkpoint()


def test_every_row_has_a_background_for_the_hover_highlight() -> None:
    root = _parse(render_timeline(handmade_report()))
    steps = [g for g in root.iter(f"{SVG}g") if g.attrib.get("class") == "step"]
    assert len(steps) == 7
    for g in steps:
        backgrounds = [
            r
            for r in g.iter(f"{SVG}rect")
            if (r.attrib.get("class") or "").split()[0] == "row-bg"
        ]
        assert len(backgrounds) == 1, g.attrib["data-step"]
