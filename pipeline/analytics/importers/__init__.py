"""Performance importers behind one port: Meta and Google CSV exports, Meta Insights, Google Ads API."""

from __future__ import annotations

from pipeline.analytics.importers.base import (
    BadReport,
    PerformanceSource,
    Report,
    ReportRow,
    utm_content_of,
)
from pipeline.analytics.importers.google_ads_api import GoogleAdsApi
from pipeline.analytics.importers.google_csv import GoogleCsv, parse_google_csv
from pipeline.analytics.importers.meta_api import MetaInsightsApi
from pipeline.analytics.importers.meta_csv import MetaCsv, parse_meta_csv
from pipeline.analytics.importers.sniff import CsvSource, read_csv_report, sniff_source

__all__ = [
    "BadReport",
    "CsvSource",
    "GoogleAdsApi",
    "GoogleCsv",
    "MetaCsv",
    "MetaInsightsApi",
    "PerformanceSource",
    "Report",
    "ReportRow",
    "parse_google_csv",
    "parse_meta_csv",
    "read_csv_report",
    "sniff_source",
    "utm_content_of",
]
