"""python -m bench.monitor: what one round of the collector's Redis sampling costs."""
