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
import os
import random
import signal
import threading
from collections.abc import Callable
from types import FrameType

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
    """On SIGTERM run ``shutdown``, then end the process as the signal would have."""
    previous = signal.getsignal(signal.SIGTERM)

    def handle(signum: int, frame: FrameType | None) -> None:
        shutdown()
        if previous is signal.SIG_IGN:
            return
        if callable(previous):
            previous(signum, frame)
            return
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, handle)
