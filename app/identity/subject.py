"""What a caller's subject (the owner id every order is keyed by) may be: one rule, every mode.

The jwt and gateway identity modes and the development owner all pass through it, so a subject
one mode accepts the others accept too. It must be a string of 1 to 256 characters that is not
all white space and holds no control character and no lone surrogate: a lone surrogate has no
UTF-8 spelling, so neither store could hold it (it would be a 500 instead of a 401).
"""

from __future__ import annotations

import re

MAX_SUBJECT_LENGTH = 256
# C0 and C1 controls, DEL, and the surrogate code points (never valid alone in a str from JSON).
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def subject_error(value: object) -> str | None:
    """What ``value`` lacks to be a caller's subject ("must ..."), or None when it is one.

    The reason never quotes the value: it is logged, and the value may be anything.
    """
    if not isinstance(value, str):
        return "must be a string"
    if not value.strip():
        return "must not be empty or blank"
    if len(value) > MAX_SUBJECT_LENGTH:
        return f"must be at most {MAX_SUBJECT_LENGTH} characters"
    if _FORBIDDEN.search(value):
        return "must not hold a control character or a lone surrogate"
    return None
