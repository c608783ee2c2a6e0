"""uvicorn's server whose second Ctrl-C ends the process at once, without a traceback.

uvicorn takes a second SIGINT as "force quit": it skips the app's shutdown and cancels what is
still running, and the cancelled lifespan task then logs a traceback. Here the second SIGINT
ends the process the way a Ctrl-C conventionally does (killed by SIGINT: status 130 to a
shell, and ``make`` says nothing more), after ``on_force_exit`` (if given) has done what must
not be left behind.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

import uvicorn


class InterruptibleServer(uvicorn.Server):
    """One SIGINT (or SIGTERM): uvicorn's graceful shutdown; a second SIGINT: exit now."""

    def __init__(
        self, config: uvicorn.Config, on_force_exit: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self.on_force_exit = on_force_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGINT and self.should_exit:
            print("second Ctrl-C: exiting now", file=sys.stderr, flush=True)
            if self.on_force_exit is not None:
                self.on_force_exit()
            exit_as_interrupted()
        super().handle_exit(sig, frame)


def exit_as_interrupted() -> NoReturn:
    """End the process now, killed by SIGINT as a Ctrl-C ends a program (output flushed, no
    interpreter teardown)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)
    os._exit(128 + signal.SIGINT)  # not reached: SIGINT's default action ends the process
