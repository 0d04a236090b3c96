"""Install what the local stack needs and is missing: Debian packages, jars, the
console page's npm packages.

Jars come from Maven Central through `mvn dependency:copy-dependencies` on
the POMs in stack/maven/, into a cache folder keyed by the POM's content, so
a second run (or another clone on the same machine) downloads nothing. The
console's charting library comes from the npm registry by `npm ci` in
console/web (its package-lock.json pins it), again only when the lock changed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

MAVEN_DIR = Path(__file__).with_name("maven")
CONSOLE_WEB = Path(__file__).resolve().parent.parent / "console" / "web"
Say = Callable[[str], None]
_DOWNLOADED = re.compile(r"Downloaded from \S+: (\S+)")

# command on PATH -> Debian package that provides it
_SYSTEM = {
    "redis-server": "redis-server",
    "java": "openjdk-17-jre-headless",
    "mvn": "maven",
    # Tests run a real Alertmanager on loopback (tests/alerts/test_alertmanager.py).
    "prometheus-alertmanager": "prometheus-alertmanager",
    # The console page's npm packages (npm ci in console/web); npm brings Node.
    "npm": "npm",
    # The console's browser tests and benchmark drive Debian's Chromium (Playwright).
    "chromium": "chromium",
}


class InstallError(RuntimeError):
    """An install step failed; the message names the step and its output."""


def _java_major() -> int:
    try:
        out = subprocess.run(
            ["java", "-version"], capture_output=True, text=True, check=False
        ).stderr
    except OSError:
        return 0
    m = re.search(r'version "(\d+)', out)
    return int(m.group(1)) if m else 0


def ensure_system(say: Say) -> None:
    """apt-get install the packages whose commands are missing (as root), then the
    console page's npm packages."""
    missing = [pkg for cmd, pkg in _SYSTEM.items() if shutil.which(cmd) is None]
    if shutil.which("java") and _java_major() < 17:
        missing.append("openjdk-17-jre-headless")  # Kafka 4 brokers need Java 17+
    if missing:
        _apt_install(missing, say)
    ensure_npm(CONSOLE_WEB, say)


def _apt_install(missing: list[str], say: Say) -> None:
    say(f"installing Debian packages: {' '.join(missing)}")
    for argv in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
    ):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise InstallError(
                f"{' '.join(argv)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )


def ensure_npm(folder: Path, say: Say) -> None:
    """`npm ci` in `folder` when its node_modules is missing or older than its lock
    (a stamp in node_modules holds the digest of the package-lock.json it came from)."""
    lock_file = folder / "package-lock.json"
    if not lock_file.exists():
        return
    digest = hashlib.sha256(lock_file.read_bytes()).hexdigest()
    stamp = folder / "node_modules" / ".installed-lock"
    if stamp.exists() and stamp.read_text() == digest:
        return
    with open(folder / ".npm-install.lock", "w") as guard:  # one install at a time
        fcntl.flock(guard, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == digest:
            return
        say(f"installing the npm packages of {folder} (npm ci)")
        argv = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        proc = subprocess.run(argv, cwd=folder, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise InstallError(
                f"{' '.join(argv)} in {folder} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
            )
        stamp.parent.mkdir(exist_ok=True)  # npm makes none for a package without dependencies
        stamp.write_text(digest)


def ensure_jars(cache_dir: Path, pom_name: str, say: Say) -> Path:
    """Folder holding every jar of stack/maven/<pom_name>, downloaded once."""
    pom = MAVEN_DIR / pom_name
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:12]
    target = cache_dir / f"{pom.stem.removesuffix('.pom')}-{digest}"
    done = target / ".complete"
    if done.exists():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    say(f"fetching {pom.stem.removesuffix('.pom')} jars from Maven Central into {target}")
    argv = [
        "mvn",
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={partial}",
        "-DincludeScope=runtime",
        # Maven's own repository inside the cache too: one folder to keep or wipe.
        f"-Dmaven.repo.local={cache_dir / 'm2'}",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    tail: list[str] = []
    fetched = 0
    tty = sys.stderr.isatty()
    label = pom.stem.removesuffix(".pom")
    for line in proc.stdout:
        tail = [*tail[-40:], line]
        m = _DOWNLOADED.search(line)
        if m:
            fetched += 1
            name = m.group(1).rsplit("/", 1)[-1]
            if tty:
                sys.stderr.write(f"\r  {label}: {fetched} files downloaded, last {name[:50]:<50}")
                sys.stderr.flush()
            elif fetched % 50 == 1:  # a log, not a terminal: a line now and then
                sys.stderr.write(f"  {label}: {fetched} files downloaded, last {name}\n")
    if fetched:
        sys.stderr.write(("\n" if tty else "") + f"  {label}: {fetched} files downloaded\n")
    if proc.wait() != 0:
        raise InstallError(f"{' '.join(argv)} failed:\n{''.join(tail)}")
    done_tmp = partial / ".complete"
    done_tmp.write_text(digest)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def kafka_jars(cache_dir: Path, say: Say) -> Path:
    return ensure_jars(cache_dir, "kafka.pom.xml", say)


def flink_connector_jars(cache_dir: Path, say: Say) -> list[Path]:
    return sorted(ensure_jars(cache_dir, "flink.pom.xml", say).glob("*.jar"))


# --- Caddy, the compose file's TLS proxy, for the tests that run it on loopback -----

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "docker-compose.yml"
CADDY_MODULE = "github.com/caddyserver/caddy/v2/cmd/caddy"
_CADDY_IMAGE = re.compile(r"^\s*image:\s*caddy:(\d+\.\d+\.\d+)\S*\s*$", re.MULTILINE)


def caddy_version(compose: Path = COMPOSE_FILE) -> str:
    """The version of the `caddy` image docker-compose.yml runs: the binary built here is the
    same release, so the tests read the Caddyfile as production does (Debian's caddy, 2.6,
    lacks directives the Caddyfile uses)."""
    m = _CADDY_IMAGE.search(compose.read_text())
    if m is None:
        raise InstallError(f"no `image: caddy:<version>` in {compose}")
    return m.group(1)


def caddy_path(cache_dir: Path) -> Path:
    return cache_dir / f"caddy-{caddy_version()}" / "caddy"


def ensure_caddy(cache_dir: Path, say: Say) -> Path | None:
    """The caddy binary of the compose file's version, built once with `go install` from the
    Go module proxy (about 2.5 minutes on 2 cores); None without a Go toolchain."""
    target = caddy_path(cache_dir)
    if target.exists():
        return target
    if shutil.which("go") is None:
        say("no Go toolchain: caddy not built (the proxy tests will say so)")
        return None
    version = caddy_version()
    say(f"building caddy {version} with go install into {target.parent}")
    partial = target.parent.with_name(target.parent.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    argv = ["go", "install", f"{CADDY_MODULE}@v{version}"]
    env = {**os.environ, "GOBIN": str(partial), "CGO_ENABLED": "0"}
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        raise InstallError(f"{' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    shutil.rmtree(target.parent, ignore_errors=True)
    partial.rename(target.parent)
    return target
