"""python -m bench.console: first render of a dashboard in Chromium, and page weight."""
