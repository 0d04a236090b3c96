"""The web console (python -m console): dashboards, live customer service, alerts and
user administration in the browser, for managers, SREs and admins (docs/console.md)."""
