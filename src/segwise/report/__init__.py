"""The self-contained HTML report of a segmentation run."""

from segwise.report.html import SECTIONS, render_report, sections_for, write_report

__all__ = ["SECTIONS", "render_report", "sections_for", "write_report"]
