"""Grafana dashboards as code, over the ClickHouse tables (analytics/schema.py).

Seven dashboards (uids named by the alert rules' `dashboard:` annotations):
im-cs-reply-rate, im-cs-sessions, im-moderation (customer service), im-gateway,
im-redis, im-kafka-pipeline, im-host (SREs). One module each (`cs_*.py`,
`sre_*.py`) states every panel with a fixed id, its SQL, unit and a
description of what it shows; `grafana.py` is our vocabulary on the SDK (the
ClickHouse query type, the `${datasource}` variable, panel shapes), `opsql.py`
(over `ops_samples` and its rollups, analytics/rollups.py) and `cssql.py` the
SQL shared by panels, `alerting.py` what the alert rules add (thresholds, the
rules panel, the state panel id 100 that the build adds to every dashboard a
SQL rule watches). `python -m dashboards build` writes
`dashboards/build/<uid>.json` (committed; a test holds them to a fresh build);
docker-compose provisions them and the datasource from `dashboards/provisioning/`.

Without Grafana: `macros.expand` (with `templating`) turns a panel's SQL into
the statement the ClickHouse plugin would run, and `catalog` lists the panels'
queries from the JSON, for tests and the console.

**Builder: grafana-foundation-sdk 1769699379!11.6.0.** Its builds come per
Grafana version (`EPOCH!VERSION`) and stop at 11.6; newer schemas only have
unversioned builds generated from Grafana's main branch ("Grafana next", e.g.
1769699241). None is for 12.2, so the choice is between the newest release
build and a moving "next". We pin the 11.6 one: its dashboard JSON has
schemaVersion 41, which Grafana 12.2 loads as is (its latest is 41 or 42;
the v42 migration only adds `tooltip` to `custom.hideFrom` overrides, which
these dashboards do not use), and its panel models (timeseries, stat, table,
barchart, text) are identical to the 1769699241 "next" build's (compared file
by file), so nothing of Grafana 12 is missing; a "next" build may carry
schema past 12.2 and changes with every epoch. The SDK is used at build time
only (`python -m dashboards build`); the JSON files are what Grafana reads.
"""
