"""Reports from saved records: writers (json/csv/md), the HTML report and the comparison page.

Heavy imports (jinja2, matplotlib) happen inside the functions that need them.
"""

from __future__ import annotations

from hwbench.report.records import LoadedRecord, RecordError, load_record, load_records

__all__ = ["LoadedRecord", "RecordError", "load_record", "load_records"]
