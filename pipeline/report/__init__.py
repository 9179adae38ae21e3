"""The HTML run report: built from a run directory's files, self-contained, offline."""

from pipeline.report.build import REPORT, build_report, write_report

__all__ = ["REPORT", "build_report", "write_report"]
