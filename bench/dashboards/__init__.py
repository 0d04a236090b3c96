"""python -m bench.dashboards: every dashboard panel's query over 30 days of telemetry."""
