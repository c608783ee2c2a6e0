"""What the execution environment's lifecycle asks of the handler, wired once by ``handler``.

- After a SnapStart restore (``snapshot_restore_py``'s after-restore hooks, which Lambda's
  Python runtime runs before the first invocation of a restored environment): everything taken
  during init is shared by every environment restored from the snapshot and may be stale, so
  ``random`` is reseeded (the retry jitter) and the store drops its connections and keys.
- SIGTERM (Lambda's shutdown, sent when an extension is registered) and the interpreter's
  exit: the app's shutdown runs, once.
"""

from __future__ import annotations

import atexit
import importlib
import random
import signal
import threading
from collections.abc import Callable

from app.aws_lambda.adapter import LambdaAdapter


def install(adapter: LambdaAdapter) -> None:
    """Register ``adapter``'s after-restore, SIGTERM and exit hooks."""
    register_after_restore(lambda: after_restore(adapter))
    atexit.register(adapter.close)
    if threading.current_thread() is threading.main_thread():  # signals: main thread only
        on_sigterm(adapter.close)


def after_restore(adapter: LambdaAdapter) -> None:
    """Reseed what init seeded, then let the app drop its stale connections and keys."""
    random.seed()  # from os.urandom: each restored environment gets its own jitter
    adapter.after_restore()


def register_after_restore(hook: Callable[[], object]) -> bool:
    """Register ``hook`` with the runtime's ``snapshot_restore_py`` (present in Lambda's
    Python runtimes); False, and nothing registered, where the module is absent."""
    try:
        module = importlib.import_module("snapshot_restore_py")
    except ImportError:
        return False
    module.register_after_restore(hook)
    return True


def on_sigterm(shutdown: Callable[[], None]) -> None:
    """On SIGTERM, whichever thread it reaches, run ``shutdown``, then end the process as the
    signal would have.

    A Python signal handler runs only in the main thread, and only once that thread runs
    Python code again. awslambdaric (Python >= 3.12) waits for the next invocation in a worker
    thread while the main thread blocks joining it: a process-directed SIGTERM that the kernel
    delivers to the worker trips Python's flag, the main thread never wakes, and Lambda's
    SIGKILL follows with the app's shutdown never run. So SIGTERM is blocked in the main thread
    (every thread started later inherits the mask, the runtime's pollers included) and one
    daemon thread takes it with ``sigwait``: the kernel can hand it to no other thread.
    Processes started from this one inherit the blocked SIGTERM; the function starts none.
    """
    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_IGN:
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})

    def wait() -> None:
        signum = signal.sigwait({signal.SIGTERM})
        shutdown()
        if callable(previous):
            previous(signum, None)
            return
        # The default action, now that this thread accepts the signal: the process ends by it.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    threading.Thread(target=wait, name="sigterm", daemon=True).start()
