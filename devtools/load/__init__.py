"""A bounded, open-loop load harness: ``python -m devtools.load`` (``make load``).

Requests leave on a schedule fixed before the run (``plan``), each one's latency counted from
its scheduled time (``runner``); answers are classified and summarised per route (``stats``),
judged against an SLO (``slo``) and written as ``var/load/report.json``, a Markdown report and an
SVG chart (``report``, ``chart``). See docs/load.md.
"""
