"""Fixtures for the real-browser tests: a JupyterLab on a fresh learner workspace, driven by Chromium.

Every test here carries the ``browser`` marker (deselect with ``-m "not browser"``). They skip, saying
why, only when /usr/bin/chromium or the playwright package is missing. Artefacts (screenshots, the
key-press latency table, the server log) go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import urllib.parse
from pathlib import Path

import pytest

from tests.browser.jupyterlab import CHROMIUM, CHROMIUM_FLAGS, LabPage, start_lab

REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "release"
ARTIFACTS = REPO / "test-artifacts" / "browser"
HERE = Path(__file__).resolve().parent

LATENCIES: dict[str, dict] = {}
"""name -> {"kind": "explorer" | "interact", "median_ms", "presses_ms", ...}, filled by the tests."""


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: real-browser test (JupyterLab in Chromium via playwright)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter):
    if not LATENCIES:
        return
    terminalreporter.section("key press to new figure (browser, median ms)")
    for name, row in LATENCIES.items():
        median = f"{row['median_ms']:.0f} ms" if row.get("median_ms") is not None else "n/a"
        terminalreporter.write_line(f"{row['kind']:9s} {name:40s} {median:>8s}  ({len(row['presses_ms'])} presses)")
    summary = latency_summary()
    for kind, value in summary.items():
        if value is not None:
            terminalreporter.write_line(f"median over {kind}: {value:.0f} ms")
    terminalreporter.write_line(f"written to {ARTIFACTS / 'latency.json'}")


def latency_summary() -> dict:
    summary = {}
    for kind, label in (("explorer", "explorers"), ("interact", "interact"), ("floor", "floor (no figure)"),
                        ("floor-stock", "floor, stock websocket (no TCP_NODELAY)")):
        presses = [ms for row in LATENCIES.values() if row["kind"] == kind for ms in row["presses_ms"]]
        summary[label] = statistics.median(presses) if presses else None
    return summary


def record_latency(name: str, kind: str, presses_ms: list, **extra) -> None:
    LATENCIES[name] = {"kind": kind, "median_ms": statistics.median(presses_ms) if presses_ms else None,
                       "presses_ms": [round(ms, 1) for ms in presses_ms], **extra}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "latency.json").write_text(json.dumps(
        {"summary_median_ms": latency_summary(), "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg")
         else None, "results": LATENCIES}, indent=2))


def release_segments() -> list[str]:
    """Every release/NN-name/ holding its NN-name.ipynb."""
    if not RELEASE.is_dir():
        return []
    return sorted(p.name for p in RELEASE.iterdir() if (p / f"{p.name}.ipynb").is_file())


@pytest.fixture(scope="session")
def chromium():
    """Skip the browser tests where Chromium or playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need playwright (pip install playwright; the browser is Debian's chromium, "
                    "no `playwright install`)")
    return CHROMIUM


@pytest.fixture(scope="session")
def course_release(tmp_path_factory) -> Path:
    """A copy of release/ that a test may change, as a course update would."""
    release = tmp_path_factory.mktemp("course") / "release"
    shutil.copytree(RELEASE, release)
    return release


@pytest.fixture(scope="session")
def learner_workspace(tmp_path_factory, course_release) -> Path:
    """A fresh learner workspace, made as `make lab` makes it: the learner copies and the start page."""
    from course import workspace as course_workspace

    workspace = tmp_path_factory.mktemp("learner-workspace") / "my-work"
    course_workspace.prepare(workspace, course_release)
    return workspace


@pytest.fixture(scope="session")
def lab_server(chromium, learner_workspace, tmp_path_factory):
    """JupyterLab started as `make lab` starts it (course.lab's command line and configuration), on
    127.0.0.1 and a free port, with the token it generates and prints."""
    from course import lab as course_lab

    state = tmp_path_factory.mktemp("lab-state")
    for stale in ARTIFACTS.glob("FAILED-*.png"):  # from an earlier run
        stale.unlink()
    server = start_lab(learner_workspace, state, ARTIFACTS / "jupyterlab.log",
                       course_lab.learner_environment(learner_workspace))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lab(lab_server, tmp_path_factory):
    """One Chromium page (fresh profile, only 127.0.0.1 reachable) with JupyterLab open on the start page."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    blocked: list[str] = []

    def only_local(route):
        url = route.request.url
        if url.startswith(("data:", "blob:", "file:")) or urllib.parse.urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True,
            viewport={"width": 1400, "height": 1000})
        try:
            context.route("**/*", only_local)
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(30_000)
            lab_page = LabPage(page, lab_server)
            lab_page.blocked = blocked
            lab_page.open_printed_url()
            yield lab_page
        finally:
            context.close()


STOCK_CONNECTION = "jupyter_server.services.kernels.connection.channels.ZMQChannelsWebsocketConnection"


@pytest.fixture
def stock_lab(lab, learner_workspace, tmp_path_factory):
    """A second JupyterLab like the learner's but with jupyter_server's stock kernel websocket connection,
    in a second page of the same browser; for side-by-side timings only."""
    from course import lab as course_lab

    state = tmp_path_factory.mktemp("stock-lab-state")
    command = [*course_lab.lab_command(learner_workspace, []),
               f"--ServerApp.kernel_websocket_connection_class={STOCK_CONNECTION}"]
    server = start_lab(learner_workspace, state, ARTIFACTS / "jupyterlab-stock.log",
                       course_lab.learner_environment(learner_workspace), command)
    page = lab.page.context.new_page()
    page.set_default_timeout(30_000)
    try:
        stock = LabPage(page, server)
        stock.open_printed_url()
        yield stock
    finally:
        page.close()
        server.stop()
    assert course_lab.server.LOG_LINE not in server.log.read_text(errors="replace"), "stock server used TCP_NODELAY"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
