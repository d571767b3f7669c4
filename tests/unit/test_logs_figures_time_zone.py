"""The Logs charts say their times are UTC, on the axis and on hover (the axes read a bare "Dec 5, 2026 06:00")."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from daivi_ui import figures_logs as fig

T0 = dt.datetime(2026, 12, 5, 6, 0)
BUCKETS = [T0, T0 + dt.timedelta(minutes=15)]


def figures():
    timeline = pd.DataFrame({"bucket": BUCKETS, "value": ["INFO", "ERROR"], "events": [10, 2]})
    stats = pd.DataFrame({"bucket": BUCKETS, "value": ["web-01", "web-01"], "stat": [3.0, 4.0]})
    rates = pd.DataFrame({"bucket": BUCKETS, "server_error_share": [0.1, 0.0], "server_errors": [1, 0], "http_events": [10, 5],
                          "error_share": [0.2, 0.0], "error_events": [2, 0], "events": [10, 5]})
    return (fig.build_timeline_figure(timeline, 900, "severity", T0, T0 + dt.timedelta(hours=1)),
            fig.build_stats_timechart_figure(stats, "Count", 900),
            fig.build_error_rate_figure(rates, 900))


def test_every_logs_chart_says_its_times_are_utc():
    for figure in figures():
        assert figure.layout.xaxis.title.text == "Time (UTC)"
        assert figure.data and all(" UTC" in trace.hovertemplate for trace in figure.data)
