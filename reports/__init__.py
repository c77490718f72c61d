"""Reports: what a run found, for people (terminal, HTML, Markdown) and machines (JSON, JUnit).

`write_report` writes `reports/<run-id>/` into a temporary folder and renames it into place,
so an interrupted run never leaves half a report and never touches an earlier one; then
it points `reports/latest` at it.
"""
from rolecall.reports.writer import write_report

__all__ = ["write_report"]
