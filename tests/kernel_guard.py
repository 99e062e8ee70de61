"""pytest plugin: retry a freshly started nbval kernel that never answers its first request.

On these machines a new ipykernel sometimes ignores its first execute request
(shared/reference/pitfalls.md: ~3% idle, far more under load). nbval would then
wait out the cell timeout and report a failure that has nothing to do with the
notebook. This plugin sends a trivial probe after start-up and, if no reply
arrives in time, replaces the kernel once. Loaded with ``-p tests.kernel_guard``.
"""

from __future__ import annotations

from queue import Empty

from nbval import kernel as nbval_kernel

PROBE_TIMEOUT_S = 30

_original_init = nbval_kernel.RunningKernel.__init__


def _answers_a_probe(running: nbval_kernel.RunningKernel) -> bool:
    try:
        running.await_reply(running.execute_cell_input("pass"), timeout=PROBE_TIMEOUT_S)
    except Empty:
        return False
    return True


def _guarded_init(self, *args, **kwargs):
    _original_init(self, *args, **kwargs)
    if not _answers_a_probe(self):
        self.stop()
        _original_init(self, *args, **kwargs)
        if not _answers_a_probe(self):
            raise RuntimeError(f"a fresh kernel twice failed to answer within {PROBE_TIMEOUT_S} s")


nbval_kernel.RunningKernel.__init__ = _guarded_init
