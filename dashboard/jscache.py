"""bokeh and panel JavaScript/CSS for every version a summary page names, on this machine.

LUTE's ``report.html`` files load BokehJS and Panel's JS/CSS from CDNs that a
beamline network cannot reach, and pages written over the years name older
versions than the one this server runs.  The installed versions are served
straight from the installed packages; any other version is unpacked once from
its PyPI wheel (through the facility's mirror, via the user's pip config) into
a cache folder, by ``lute-dashboard js fetch``.
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from lute_model.paths import safe_join

#: Where each package keeps its browser files, inside the package (and its wheel).
STATIC_DIRS: dict[str, str] = {"bokeh": "server/static", "panel": "dist"}

#: A version as it appears in CDN URLs and on PyPI: ``3.4.2``, ``1.5.0rc1``, ``1.5.0-rc.1``.
VERSION_PATTERN = r"[0-9]+(?:\.[0-9]+){1,3}(?:[.-]?(?:a|b|rc|dev|post)\.?[0-9]+)*"
_VERSION = re.compile(VERSION_PATTERN)

#: pip must not hang the CLI forever on a dead mirror.
PIP_TIMEOUT_S = 600


def cache_dir() -> Path:
    """The folder holding fetched versions: one setting, then the XDG default."""
    if os.environ.get("LUTE_DASHBOARD_JS_CACHE"):
        return Path(os.environ["LUTE_DASHBOARD_JS_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(xdg) / "lute-dashboard" / "js"


def _check(package: str, version: str) -> None:
    """Refuse names that could not be a bokeh/panel release, before they reach a path or pip."""
    if package not in STATIC_DIRS:
        raise ValueError(f"unknown package {package!r}: expected one of {sorted(STATIC_DIRS)}")
    if not _VERSION.fullmatch(version):
        raise ValueError(f"not a release version: {version!r}")


@functools.cache
def _installed_static(package: str, version: str) -> Path | None:
    """The installed package's static folder, if it is that very version.

    Cached: reading package metadata costs milliseconds, and each page asks ~15 times.
    """
    try:
        if importlib.metadata.version(package) != version:
            return None
    except importlib.metadata.PackageNotFoundError:
        return None
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / STATIC_DIRS[package]


def static_root(package: str, version: str) -> Path | None:
    """The folder holding ``package``'s browser files for ``version``, or None if we lack it."""
    _check(package, version)
    installed = _installed_static(package, version)
    if installed is not None and installed.is_dir():
        return installed
    cached = cache_dir() / package / version
    return cached if cached.is_dir() else None


def available(package: str, version: str) -> bool:
    """Whether a page made with ``package`` ``version`` can be shown offline."""
    try:
        return static_root(package, version) is not None
    except ValueError:
        return False


def locate(package: str, version: str, relpath: str) -> Path | None:
    """The file ``relpath`` (e.g. ``js/bokeh.min.js``) of that version, or None.

    ``relpath`` comes from a URL, so it goes through the guarded join.
    """
    try:
        root = static_root(package, version)
        if root is None:
            return None
        path = safe_join(root, relpath)
        return path if path.is_file() else None
    except (ValueError, OSError):  # UnsafePath is a ValueError
        return None


def _download_wheel(package: str, version: str, into: Path) -> Path:
    """Ask pip for the wheel: pip knows the facility's mirror, proxy and certificates."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--ignore-requires-python", "--disable-pip-version-check",
               f"{package}=={version}", "-d", str(into)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S,
                          check=False)
    wheels = sorted(into.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        raise RuntimeError(f"pip could not download {package}=={version}:\n"
                           f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return wheels[0]


def _extract_static(wheel: Path, package: str, into: Path) -> int:
    """Unpack only the package's static folder, each member through the guarded join."""
    prefix = f"{package}/{STATIC_DIRS[package]}/"
    count = 0
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            if member.is_dir() or not member.filename.startswith(prefix):
                continue
            target = safe_join(into, member.filename[len(prefix):])
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
            count += 1
    if count == 0:
        raise RuntimeError(f"{wheel.name} holds no {prefix} folder")
    return count


def fetch(package: str, version: str) -> Path:
    """Download ``package``'s wheel for ``version`` and cache its static files.

    The files land in a temporary folder beside the cache entry and are renamed
    into place, so a server never sees half a version and two fetches never mix.
    Returns the folder now serving that version (the installed one if it is that).
    """
    existing = static_root(package, version)
    if existing is not None:
        return existing
    final = cache_dir() / package / version
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=final.parent) as work:
        wheel = _download_wheel(package, version, Path(work) / "wheel")
        staged = Path(work) / "static"
        staged.mkdir()
        _extract_static(wheel, package, staged)
        try:
            staged.rename(final)
        except OSError:
            if not final.is_dir():  # not simply another fetch that won the race
                raise
    return final


def js_fetch_main(argv: list[str]) -> int:
    """``lute-dashboard js fetch [bokeh|panel] VERSION``: fill the cache for old reports."""
    parser = argparse.ArgumentParser(
        prog="lute-dashboard js fetch",
        description="Cache the JavaScript/CSS of a bokeh or panel version, so that summary "
                    "pages made with it display without internet access.")
    parser.add_argument("package", nargs="?", choices=sorted(STATIC_DIRS), default="bokeh")
    parser.add_argument("version", help="e.g. 3.4.2")
    args = parser.parse_args(argv)
    try:
        folder = fetch(args.package, args.version)
    except (ValueError, RuntimeError, OSError, subprocess.SubprocessError) as err:
        print(f"lute-dashboard js fetch: {err}", file=sys.stderr)
        return 1
    print(f"{args.package} {args.version}: {folder}")
    return 0
