"""python -m bench.alerts: evaluating every alert rule once over 30 days of telemetry."""
