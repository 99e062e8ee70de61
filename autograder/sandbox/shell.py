"""The notebook-like IPython shell the sandboxed child runs cells in, and the worker's warm-up.

Runs inside the sandbox. Cells run through an ``InteractiveShell`` whose display hook,
display publisher and ``sys.stdout``/``sys.stderr`` collect nbformat outputs for the
current cell, charged against the notebook's output budget: past it, the child reports
the event and ends at once.
"""

from __future__ import annotations

import json
import os
import sys


def close_figures() -> None:
    """Close every matplotlib figure (between cells and notebooks)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        try:
            pyplot.close("all")
        except Exception:
            pass


# --------------------------------------------------------------------------- the notebook shell

def prepare_shell(send, limits: dict):
    """The worker's pristine shell, with its outputs sent to ``send`` within the output limit."""
    shell = PRISTINE_SHELL if PRISTINE_SHELL is not None else new_shell()
    shell.send = send
    shell.output_budget = int(limits["output_bytes"])
    shell.current_outputs = []
    shell.current_cell = -1
    sys.stdout = _CellStream(shell, "stdout")
    sys.stderr = _CellStream(shell, "stderr")
    return shell


def _charge(shell, size: int) -> None:
    """Count ``size`` bytes of output; past the limit, report it and end the child at once."""
    shell.output_budget -= size
    if shell.output_budget < 0:
        shell.send({"kind": "event", "what": "output", "cell": shell.current_cell})
        os._exit(0)


class _CellStream:
    """sys.stdout / sys.stderr of the child: text goes to the current cell's outputs."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, shell, name: str):
        self.shell = shell
        self.name = name

    def write(self, text) -> int:
        text = str(text)
        _charge(self.shell, len(text))
        outputs = self.shell.current_outputs
        if outputs and outputs[-1].get("output_type") == "stream" and outputs[-1]["name"] == self.name:
            outputs[-1]["text"] += text
        else:
            outputs.append({"output_type": "stream", "name": self.name, "text": text})
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return 1 if self.name == "stdout" else 2

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False


def new_shell():
    """Build the notebook-like InteractiveShell class and one instance of it."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    def bundle_size(data) -> int:
        return len(json.dumps(data, default=repr))

    class CollectingDisplayHook(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            _charge(self.shell, bundle_size(format_dict))
            self.shell.current_outputs.append({"output_type": "execute_result", "data": format_dict,
                                               "metadata": md_dict or {},
                                               "execution_count": self.shell.execution_count})

        def finish_displayhook(self):
            pass

    class CollectingDisplayPublisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            if update:
                return
            _charge(self.shell, bundle_size(data))
            self.shell.current_outputs.append({"output_type": "display_data", "data": data,
                                               "metadata": metadata or {}})

        def clear_output(self, wait=False):
            del self.shell.current_outputs[:]

    class NotebookShell(InteractiveShell):
        displayhook_class = CollectingDisplayHook
        display_pub_class = CollectingDisplayPublisher
        send = None
        output_budget = 0
        current_outputs: list = []
        current_cell = -1

        def _showtraceback(self, etype, evalue, stb):
            if isinstance(evalue, MemoryError):
                self.send({"kind": "event", "what": "memory", "cell": self.current_cell})
            elif isinstance(evalue, OSError) and evalue.errno in (27, 28):  # EFBIG, ENOSPC
                self.send({"kind": "event", "what": "disk", "cell": self.current_cell})
            text = "\n".join(stb)
            _charge(self, len(text))
            self.current_outputs.append({"output_type": "error", "ename": etype.__name__,
                                         "evalue": str(evalue)[:2000], "traceback": list(stb)})

        def enable_matplotlib(self, gui=None):
            import matplotlib

            matplotlib.use("Agg", force=True)
            return "inline", "agg"

        def enable_gui(self, gui=None):
            pass

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.autocall = 0
    config.InteractiveShell.xmode = "Plain"
    config.InteractiveShell.cache_size = 0
    InteractiveShell.clear_instance()
    return NotebookShell.instance(config=config)


PRISTINE_SHELL = None


# --------------------------------------------------------------------------- warm-up

def warm_up(modules: list[str], cells: list[str]) -> None:
    """Import what every submission will import and run the course's own locked cells once.

    The cells are the instructor's locked, ungraded cells (imports, explorers): running
    them here fills import and font caches that every forked child then inherits. Their
    namespace is thrown away; each child starts from a pristine shell.
    """
    global PRISTINE_SHELL
    import importlib
    import io
    import warnings

    warnings.filterwarnings("ignore", message=".*non-interactive.*")
    for name in ["IPython.core.interactiveshell", "numbers", "resource", *modules]:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    if cells:
        shell = new_shell()
        shell.send = lambda message: None
        shell.output_budget = 1 << 40
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = io.StringIO()
        try:
            for source in cells:
                shell.current_outputs = []
                shell.run_cell(source, store_history=False)
                close_figures()
        finally:
            sys.stdout, sys.stderr = saved
        forget_widgets()
    PRISTINE_SHELL = new_shell()


def forget_widgets() -> None:
    widgets = sys.modules.get("ipywidgets")
    if widgets is not None:
        try:
            widgets.Widget.close_all()
        except Exception:
            pass

