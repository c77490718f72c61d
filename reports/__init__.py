"""Reports: what a run found, for people (terminal, HTML, Markdown) and machines (JSON, JUnit).

`write_report` writes `reports/<run-id>/` under a temporary name and renames it into
place, so an interrupted run never leaves half a report and never touches an earlier one;
then it points `reports/latest` at it. `load_report` reads one back.
"""
from rolecall.reports.reader import Report, ReportError
from rolecall.reports.reader import load as load_report
from rolecall.reports.writer import write_report

__all__ = ["Report", "ReportError", "load_report", "write_report"]
