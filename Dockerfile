# syntax=docker/dockerfile:1
#
# The image of this project's programs, used by docker-compose.yml:
#   python -m im          one IM server node
#   python -m analytics   Kafka -> ClickHouse sink and query API
#   python -m monitor     the ops collector (samples into the outbox -> im.ops)
#   python -m streaming   the PyFlink job (local mini-cluster), or
#   flink run -m jobmanager:8081 -pym streaming   the same job submitted to a
#                         Flink cluster, with the CLI that PyFlink bundles
# Settings come from the environment only (IM_*, see */settings.py).
# It holds the runtime set only: requirements-runtime.lock, every package it
# pulls in pinned by constraints.txt (no test or lint tool, no profiler);
# those wheels exist for linux/amd64. Base images are pinned to versions.

# --- build stage: the Flink Kafka SQL connector jar from Maven Central -------
FROM maven:3.9.11-eclipse-temurin-17 AS jars
WORKDIR /build
COPY stack/maven/flink.pom.xml stack/maven/flink.pom.xml
RUN mvn --batch-mode --quiet -f stack/maven/flink.pom.xml \
        dependency:copy-dependencies -DoutputDirectory=/jars \
 && ls -l /jars

# --- build stage: the console page's npm packages (uPlot), from its lock file ----
FROM node:20.19.5-bookworm-slim AS web
WORKDIR /build
COPY console/web/package.json console/web/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && ls node_modules

# --- runtime ------------------------------------------------------------------
# Debian 12 (bookworm) still packages OpenJDK 17, which PyFlink 2.2 runs on.
FROM python:3.11.14-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN apt-get update \
 && apt-get install --yes --no-install-recommends openjdk-17-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && java -version

# The pinned runtime set (apache-flink among it), with every transitive
# package held to its version by the constraints: nothing resolves fresh at
# build time. Then put the `flink` CLI that ships inside the pyflink package
# on the PATH (it finds its FLINK_HOME, the pyflink folder, through the symlink).
COPY requirements-runtime.lock constraints.txt /tmp/
RUN pip install --requirement /tmp/requirements-runtime.lock --constraint /tmp/constraints.txt \
 && pip check \
 && rm /tmp/requirements-runtime.lock /tmp/constraints.txt \
 && ln -s "$(python -c 'import os, pyflink; print(os.path.dirname(pyflink.__file__))')/bin/flink" \
        /usr/local/bin/flink

# Connector jar(s), named by IM_FLINK_JARS as file:///opt/im/jars/<name>.jar.
COPY --from=jars /jars/ /opt/im/jars/

# Unprivileged user; the code stays root-owned and read-only to it.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/im im

WORKDIR /app
COPY contract/ contract/
COPY im/ im/
COPY streaming/ streaming/
COPY analytics/ analytics/
COPY stack/ stack/
COPY dashboards/ dashboards/
COPY alerts/ alerts/
COPY monitor/ monitor/
COPY console/ console/
# The console serves /vendor/<package>/ from console/web/node_modules/<package>/dist.
COPY --from=web /build/node_modules/ console/web/node_modules/

# PYTHONPATH: `python -m ...` from any folder, and the Python process that
# `flink run -pym streaming` starts finds the modules too.
# FLINK_LOG_DIR: the Flink CLI / PyFlink gateway logs somewhere writable
# (the default, inside site-packages, is not writable by the user).
ENV PYTHONPATH=/app \
    FLINK_LOG_DIR=/tmp/flink-log

USER im
EXPOSE 8080 8090
CMD ["python", "-m", "im"]
