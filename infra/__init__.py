"""The CDK app (Python) and its pieces.

jsii runs the CDK's JavaScript on Node. It takes the Node that ``package.json`` pins (the npm
``node`` package, installed by ``make npm-ci`` into ``node_modules/.bin``) rather than whatever
``node`` is on ``PATH``, so tests, ``make synth`` and ``make deploy`` run on one supported Node.
Set here, before any module imports ``aws_cdk`` (which starts jsii's Node process);
``JSII_NODE`` set by hand still wins.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_NODE = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "node"

if PROJECT_NODE.exists():
    os.environ.setdefault("JSII_NODE", str(PROJECT_NODE))
