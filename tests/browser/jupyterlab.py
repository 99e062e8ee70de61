"""Driving JupyterLab 4 in Chromium for the browser tests: a server fixture's helpers and a page helper.

Actions a learner takes go through the UI (menus, keyboard, typing into cells). What a learner sees is
read from the DOM; bookkeeping that the DOM shows poorly (execution state, nbgrader metadata, error
names) is read from the exposed app (``--LabApp.expose_app_in_browser=True``).
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
"""Flags measured to work on these machines (shared/reference/pitfalls.md)."""

KERNEL_START_S = 90
"""Longest wait for a notebook's kernel to report idle after opening."""

STALL_S = 40
"""A run that makes no progress (no cell finishes) for this long is a stalled kernel."""

IMAGE_WAIT_S = 10
"""Longest wait for an explorer's figure after a key press."""


# --------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LabServer:
    """A JupyterLab started for the tests on 127.0.0.1."""

    process: subprocess.Popen
    port: int
    token: str
    root: Path
    log: Path
    printed_url: str = ""
    """The URL the server printed for the learner to open (token included)."""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "lab") -> str:
        separator = "&" if "?" in path else "?"
        return f"{self.base}/{path}{separator}token={self.token}"

    def api(self, path: str, method: str = "GET", body: dict | None = None):
        request = urllib.request.Request(
            self.url(f"api/{path}"), method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


TEST_OPTIONS = ("--no-browser", "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
                "--LabApp.expose_app_in_browser=True")
"""What the tests add to the learner's own command line (``course.lab.lab_command``)."""


def start_lab(root: Path, state: Path, log: Path, env: dict, command: list[str] | None = None) -> LabServer:
    """Start JupyterLab serving ``root`` with ``command`` (default: the learner's, from ``course.lab``) plus
    the test options; return once the server has printed its URL (token included) and its API answers."""
    port = free_port()
    state.mkdir(parents=True, exist_ok=True)
    if command is None:
        from course import lab

        command = lab.lab_command(root, [])
    command = [*command, *TEST_OPTIONS, f"--ServerApp.port={port}", f"--LabApp.workspaces_dir={state / 'workspaces'}"]
    env = {**env, "JUPYTER_RUNTIME_DIR": str(state / "runtime"), "IPYTHONDIR": str(state / "ipython"),
           "PYTHONUNBUFFERED": "1"}
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    server = LabServer(process, port, "", root, log)
    printed = re.compile(rf"http://127\.0\.0\.1:{port}/\S*\?token=(\w+)")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{server.log_tail()}")
        found = printed.search(log.read_text(errors="replace"))
        if found:
            server.printed_url, server.token = found.group(0), found.group(1)
            try:
                server.api("status")
                return server
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"jupyter lab printed no URL or did not answer within 90 s:\n{server.log_tail()}")


# --------------------------------------------------------------------------------------------
# The page

_CURRENT = "jupyterapp.shell.currentWidget"

_NOTEBOOK_STATE = """() => {
  const panel = window.jupyterapp && jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.widgets) return null;
  const session = panel.sessionContext && panel.sessionContext.session;
  const kernel = session && session.kernel;
  return {
    id: panel.id, title: panel.title.label, kernel: kernel ? kernel.status : null,
    cells: panel.content.widgets.map(cell => {
      const model = cell.model;
      const outputs = [];
      if (model.outputs) {
        for (let i = 0; i < model.outputs.length; i++) {
          const o = model.outputs.get(i).toJSON();
          outputs.push({type: o.output_type, ename: o.ename || null, evalue: o.evalue || null,
                        text: o.text ? (Array.isArray(o.text) ? o.text.join('') : String(o.text)) : null,
                        mimes: o.data ? Object.keys(o.data) : []});
        }
      }
      return {type: model.type, source: model.sharedModel.getSource(),
              count: model.executionCount === undefined ? null : model.executionCount,
              running: model.executionState === 'running',
              nbgrader: (model.getMetadata && model.getMetadata('nbgrader')) || null, outputs};
    }),
  };
}"""


@dataclass
class Cell:
    index: int
    type: str
    source: str
    count: int | None
    running: bool
    nbgrader: dict | None
    outputs: list

    @property
    def grade_id(self) -> str | None:
        return (self.nbgrader or {}).get("grade_id")

    @property
    def errors(self) -> list[dict]:
        return [o for o in self.outputs if o["type"] == "error"]

    @property
    def text(self) -> str:
        return "".join(o["text"] or "" for o in self.outputs)


@dataclass
class RunReport:
    """How running a notebook went."""

    rounds: int = 0
    restarts: int = 0
    seconds: float = 0.0
    notes: list = field(default_factory=list)


class StalledKernel(Exception):
    """A run made no progress for STALL_S seconds."""


class LabPage:
    """One Chromium page showing JupyterLab."""

    def __init__(self, page, server: LabServer):
        self.page = page
        self.server = server

    # -- navigation

    def open_lab(self, path: str | None = None) -> None:
        self.page.goto(self.server.url(f"lab/tree/{path}" if path else "lab"))
        self.page.wait_for_function("() => window.jupyterapp && jupyterapp.started !== undefined",
                                    timeout=KERNEL_START_S * 1000)
        if path:
            self.wait_for_notebook(path)

    def open_printed_url(self) -> None:
        """Open the URL the server printed, as a learner pasting it would; wait for the notebook it shows."""
        self.page.goto(self.server.printed_url)
        self.page.wait_for_function(
            f"""() => {{ const w = window.jupyterapp && {_CURRENT};
                 return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel &&
                        w.sessionContext.session.kernel.status === 'idle'; }}""", timeout=KERNEL_START_S * 1000)
        self.dismiss_notifications()

    def open_notebook(self, path: str) -> None:
        """Open a notebook as File > Open from Path would, and wait for its kernel."""
        self.page.evaluate("async (path) => { await jupyterapp.commands.execute('docmanager:open', {path}); }", path)
        self.wait_for_notebook(path)

    def wait_for_notebook(self, path: str) -> None:
        name = Path(path).name
        self.page.wait_for_function(
            f"""(name) => {{ const w = window.jupyterapp && {_CURRENT};
                 return w && w.title && w.title.label === name && w.content && w.content.widgets &&
                        w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel &&
                        w.sessionContext.session.kernel.status === 'idle'; }}""",
            arg=name, timeout=KERNEL_START_S * 1000)
        self.dismiss_notifications()

    def close_current(self) -> None:
        """Close the current notebook and shut its kernel down (cleanup, not a learner action)."""
        self.page.evaluate(f"""async () => {{ const w = {_CURRENT};
            if (w && w.sessionContext) {{ try {{ await w.sessionContext.shutdown(); }} catch (e) {{}} }}
            if (w) {{ w.context.model.dirty = false; w.dispose(); }} }}""")

    def dismiss_notifications(self) -> None:
        """Answer the 'get notified about Jupyter news?' toast, which can cover the page, with No."""
        button = self.page.locator(".jp-toast-button:has-text('No')")
        if button.count():
            try:
                button.first.click(timeout=2000)
            except Exception:  # noqa: BLE001 - it went away by itself
                pass

    # -- the notebook

    def state(self) -> dict:
        return self.page.evaluate(_NOTEBOOK_STATE)

    def cells(self) -> list[Cell]:
        return [Cell(i, **c) for i, c in enumerate(self.state()["cells"])]

    def panel_selector(self) -> str:
        return f"#{self.state()['id']}"

    def cell_locator(self, index: int):
        return self.page.locator(f"{self.panel_selector()} .jp-Notebook .jp-Cell").nth(index)

    def menu(self, menu: str, item: str) -> None:
        """Click ``menu`` in the menu bar, then ``item`` in it."""
        entry = self.page.locator(f".lm-Menu:not(.lm-mod-hidden) .lm-Menu-item:has(.lm-Menu-itemLabel:text-is('{item}'))")
        for _attempt in range(3):
            self.page.keyboard.press("Escape")  # close any menu left open
            self.page.click(f".lm-MenuBar-itemLabel:text-is('{menu}')")
            try:
                entry.first.wait_for(state="visible", timeout=5_000)
                break
            except Exception:  # noqa: BLE001 - the click toggled a menu shut: try again
                continue
        entry.first.click()

    @contextlib.contextmanager
    def notebook(self, path: str, artifacts: Path | None = None):
        """Open ``path``; on leaving, screenshot the page if something failed, then close it."""
        self.open_notebook(path)
        try:
            yield self
        except BaseException:
            if artifacts is not None:
                try:
                    self.page.screenshot(path=str(artifacts / f"FAILED-{Path(path).stem}.png"), full_page=True)
                except Exception:  # noqa: BLE001 - the screenshot is a courtesy
                    pass
            raise
        finally:
            self.close_current()

    def accept_dialog(self) -> None:
        self.page.locator(".jp-Dialog .jp-mod-accept").first.click(timeout=10_000)

    def select_cell(self, index: int) -> None:
        self.page.evaluate(f"(i) => {{ const nb = {_CURRENT}.content; nb.deselectAll(); nb.activeCellIndex = i; "
                           "nb.mode = 'command'; }", index)

    def wait_until_done(self, previous_counts: dict[int, int | None]) -> None:
        """Wait until no cell is running and the kernel is idle; raise StalledKernel if nothing moves."""
        last_progress, last_signature = time.monotonic(), None
        started = time.monotonic()
        while True:
            state = self.state()
            cells = state["cells"]
            running = [i for i, c in enumerate(cells) if c["running"]]
            signature = tuple(c["count"] for c in cells)
            if signature != last_signature:
                last_signature, last_progress = signature, time.monotonic()
            changed = any(c["count"] != previous_counts.get(i) for i, c in enumerate(cells))
            if not running and state["kernel"] == "idle" and (changed or time.monotonic() - started > 3):
                return
            if time.monotonic() - last_progress > STALL_S:
                raise StalledKernel(f"no cell finished for {STALL_S} s; running cells {running}, "
                                    f"kernel {state['kernel']}")
            time.sleep(0.2)

    def run_all(self, report: RunReport) -> None:
        """Run ▸ Run All Cells, then, past each error, Run ▸ Run Selected Cell and All Below, until every
        code cell has run. A stalled kernel is restarted once (Kernel ▸ Restart Kernel and Run All Cells)."""
        start = time.monotonic()
        try:
            self._run_everything(report, restart=False)
        except StalledKernel as stall:
            report.notes.append(f"stalled: {stall}; restarting the kernel and running all again")
            report.restarts += 1
            self._run_everything(report, restart=True)
        report.seconds = time.monotonic() - start

    def _run_everything(self, report: RunReport, restart: bool) -> None:
        counts = {c.index: c.count for c in self.cells()}
        if restart:
            self.menu("Kernel", "Restart Kernel and Run All Cells…")
            self.accept_dialog()
            counts = {i: None for i in counts}
        else:
            self.menu("Run", "Run All Cells")
        report.rounds += 1
        self.wait_until_done(counts)
        if all(c.count is None for c in self.cells() if c.type == "code" and c.source.strip()):
            raise StalledKernel("Run All Cells ran no cell")
        while True:  # the kernel skips the cells queued behind an error: go on from the first one left
            cells = self.cells()
            pending = [c for c in cells if c.type == "code" and c.count is None and c.source.strip()]
            if not pending:
                return
            counts = {c.index: c.count for c in cells}
            self.select_cell(pending[0].index)
            last = pending[0].index == len(cells) - 1  # "... and All Below" is disabled on the last cell
            self.menu("Run", "Run Selected Cell" if last else "Run Selected Cell and All Below")
            report.rounds += 1
            self.wait_until_done(counts)
            if self.cells()[pending[0].index].count is None:
                raise StalledKernel(f"cell {pending[0].index} did not run when asked")

    # -- explorers

    def explorers(self):
        return self.page.locator(f"{self.panel_selector()} .course-explorer")


# JavaScript run in the page to time one key press: key down → figure <img> src replaced → that image
# loaded, and the readout's first change.
_WATCH_EXPLORER = """(root) => {
  const lat = window.__courseLatency = {key: null, src: null, load: null, readout: null};
  const img = root.querySelector('img.course-explorer-figure') || root.querySelector('img');
  const readout = root.querySelector('.course-explorer-readout');
  (window.__courseObservers || []).forEach(o => o.disconnect());
  const onSrc = new MutationObserver(() => { if (lat.src === null) lat.src = performance.now(); });
  if (img) {
    onSrc.observe(img, {attributes: true, attributeFilter: ['src']});
    img.addEventListener('load', () => { if (lat.load === null) lat.load = performance.now(); }, {once: true});
  }
  const onReadout = new MutationObserver(() => { if (lat.readout === null) lat.readout = performance.now(); });
  if (readout) onReadout.observe(readout, {subtree: true, childList: true, characterData: true});
  window.__courseObservers = [onSrc, onReadout];
  document.addEventListener('keydown', () => { lat.key = performance.now(); }, {capture: true, once: true});
}"""

# The same for ``interact``: its output area is cleared and a new <img> appended on every change.
_WATCH_OUTPUT = """(root) => {
  const lat = window.__courseLatency = {key: null, src: null, load: null, readout: null};
  const old = new Set(root.querySelectorAll('img'));
  (window.__courseObservers || []).forEach(o => o.disconnect());
  const seen = new MutationObserver(() => {
    for (const img of root.querySelectorAll('img')) {
      if (old.has(img) || img.__courseSeen) continue;
      img.__courseSeen = true;
      if (lat.src === null) lat.src = performance.now();
      const loaded = () => { if (lat.load === null) lat.load = performance.now(); };
      if (img.complete && img.naturalWidth) loaded(); else img.addEventListener('load', loaded, {once: true});
    }
  });
  seen.observe(root, {subtree: true, childList: true});
  window.__courseObservers = [seen];
  document.addEventListener('keydown', () => { lat.key = performance.now(); }, {capture: true, once: true});
}"""


@dataclass
class SliderRun:
    """Key presses on one slider and what followed each."""

    latencies_ms: list = field(default_factory=list)
    """Key down to the new figure image loaded, per press that changed the figure."""
    no_change: int = 0
    values: list = field(default_factory=list)
    readout_changed: bool = False

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.latencies_ms) if self.latencies_ms else None


def press_slider(page, root, presses: int, interact: bool = False, readout_only: bool = False) -> SliderRun:
    """Focus the first slider handle in ``root`` and step it with the keyboard ``presses`` times,
    waiting each time for the figure to be replaced (or, ``readout_only``, the readout); time each press."""
    handle = root.locator(".widget-slider .noUi-handle").first
    handle.scroll_into_view_if_needed()
    readout = root.locator(".course-explorer-readout")
    readout_before = readout.first.inner_html() if readout.count() else None
    run = SliderRun(values=[handle.get_attribute("aria-valuenow")])
    key = "ArrowRight"
    for _ in range(presses):
        value, maximum = handle.get_attribute("aria-valuenow"), handle.get_attribute("aria-valuemax")
        if value is not None and maximum is not None and float(value) >= float(maximum):
            key = "ArrowLeft"
        root.evaluate(_WATCH_OUTPUT if interact else _WATCH_EXPLORER)
        handle.focus()
        page.keyboard.press(key)
        event = "readout" if readout_only else "load"
        try:
            page.wait_for_function(f"() => window.__courseLatency.{event} !== null", timeout=IMAGE_WAIT_S * 1000)
        except Exception:  # noqa: BLE001 - the figure did not change for this step
            run.no_change += 1
            continue
        times = page.evaluate("window.__courseLatency")
        run.latencies_ms.append(times[event] - times["key"])
        run.values.append(handle.get_attribute("aria-valuenow"))
    if readout_before is not None:
        page.wait_for_timeout(100)
        run.readout_changed = readout.first.inner_html() != readout_before
    return run


def answer(lab: LabPage, solution_index: int, code: str) -> list[str]:
    """Type ``code`` into the answer cell, run it and the test cell below it (Shift+Enter twice);
    return the test cell's printed lines."""
    page = lab.page
    editor = lab.cell_locator(solution_index).locator(".cm-content").first
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type(code)
    before = {c.index: c.count for c in lab.cells()}
    page.keyboard.press("Shift+Enter")
    page.keyboard.press("Shift+Enter")
    test_index = solution_index + 1
    page.wait_for_function(
        """([i, before]) => { const cell = jupyterapp.shell.currentWidget.content.widgets[i];
             return cell.model.executionCount !== null && cell.model.executionCount !== before &&
                    cell.model.executionState !== 'running'; }""",
        arg=[test_index, before.get(test_index)], timeout=60_000)
    cell = lab.cells()[test_index]
    assert not cell.errors, f"test cell raised {[e['ename'] + ': ' + str(e['evalue']) for e in cell.errors]}"
    return [line.strip() for line in cell.text.splitlines() if line.strip()]
