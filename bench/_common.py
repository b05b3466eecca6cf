"""Shared helpers of the live benches (``live_latency``, ``sessions``, ``soak``, ...).

The servers, "the page is ready" and Debian's chromium come from the tests'
harness (``tests/support``), re-exported here for the benches; what only the
benches need is below:
- ``/proc`` readers: RSS (``VmRSS``), CPU seconds (utime + stime), open fds.
- :class:`BokehClient`: one Bokeh session without a browser, opened the way a
  browser opens it: GET the app page (which creates the session and embeds its
  token), then the websocket with subprotocols ``["bokeh", token]``, ``PULL-DOC-REQ``,
  and from then on every ``PATCH-DOC`` the server pushes is read and counted.
- Chromium through Playwright's async API (every request that would leave
  localhost aborted) and a MutationObserver on the feed's shadow root.

Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, READY, is_local  # noqa: E402
from tests.support.experiments import DATA, MFX  # noqa: E402
from tests.support.servers import DashboardServer, free_port, stop_process  # noqa: E402

#: The benches import these from here, with the helpers below.
__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "READY", "REPO", "DashboardServer", "free_port",
           "stop_process"]

TEST_EXPERIMENT = DATA / MFX
#: The Tasks of the test experiment (its grid's columns).
TEST_TASKS = ("Test", "TestBinary", "TestSocket", "TestWriteOutput", "TestReadOutput")
JOURNAL = Path("work_dir") / "lute_status.jsonl"

CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- numbers -----------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks."""
    data = sorted(values)
    if not data:
        return float("nan")
    pos = (len(data) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ys over xs (0 with fewer than 2 points)."""
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine_line() -> str:
    return f"{os.cpu_count()} cores, load average {loadavg()} (1/5/15 min)"


# -- /proc -------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (``VmRSS`` of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (all its threads), seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


# -- experiments and writers -------------------------------------------------

def copy_experiment(dest: Path, source: Path = TEST_EXPERIMENT) -> Path:
    """A private copy of a (small) experiment, its journal not yet written."""
    shutil.copytree(source, dest)
    (dest / JOURNAL).unlink(missing_ok=True)
    return dest


def build_demo(dest: Path, runs: int = 12) -> Path:
    subprocess.run([sys.executable, "-m", "dashboard.cli", "demo", str(dest), "--runs",
                    str(runs)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return dest


def start_live_writer(demo: Path, interval: float, log: Path) -> subprocess.Popen:
    """``demo DIR --live --interval S``: the demo's own writer process, as LUTE is."""
    return subprocess.Popen([sys.executable, "-m", "dashboard.cli", "demo", str(demo), "--live",
                             "--interval", str(interval)], cwd=REPO, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT)


# -- sessions without a browser ----------------------------------------------

_FEED_MARK = "class=&#x27;feed"  # the feed pane's text (Panel escapes it) starts so
_PROBE = re.compile(r"BENCH-[A-Za-z0-9]+-\d+")


def _find_feed_id(node: Any) -> str | None:
    """The id of the HTML model holding the "Latest status changes" feed, in a doc's JSON."""
    if isinstance(node, dict):
        attrs = node.get("attributes")
        if (node.get("type") == "object" and isinstance(attrs, dict)
                and isinstance(attrs.get("text"), str) and _FEED_MARK in attrs["text"]):
            return node.get("id")
        children = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return None
    for child in children:
        found = _find_feed_id(child)
        if found:
            return found
    return None


class BokehClient:
    """One Bokeh session as a browser makes it, minus the rendering.

    ``patches`` counts the PATCH-DOC messages received, ``feed_changes`` the
    changes of the feed pane's text among them; ``reset()`` zeroes both.
    """

    _ids = itertools.count(1)

    def __init__(self, base_url: str, path: str = "/") -> None:
        self.base_url = base_url
        self.path = path
        self.ws = None
        self.feed_id: str | None = None
        self.patches = 0
        self.feed_changes = 0
        self.closed_by_server = False
        #: Probe tokens (``BENCH-...``) seen in the feed's text: token -> time.time() of arrival.
        self.tokens: dict[str, float] = {}
        self._task: asyncio.Task | None = None

    async def open(self, timeout: float = 60) -> BokehClient:
        await asyncio.wait_for(self._open(), timeout)
        return self

    async def _open(self) -> None:
        from bokeh.protocol import Protocol
        from bokeh.protocol.receiver import Receiver
        from tornado.httpclient import AsyncHTTPClient, HTTPRequest
        from tornado.websocket import websocket_connect

        page = await AsyncHTTPClient().fetch(self.base_url + self.path, request_timeout=60)
        match = re.search(r'"token":"([^"]+)"', page.body.decode())
        if match is None:
            raise RuntimeError("no session token in the app page")
        ws_url = self.base_url.replace("http://", "ws://", 1) + "/ws"
        request = HTTPRequest(ws_url, headers={"Origin": self.base_url})
        self.ws = await websocket_connect(request, subprotocols=["bokeh", match.group(1)],
                                          max_message_size=64 * 1024 * 1024)
        self._receiver = Receiver(Protocol())
        ack = await self._read()
        if ack.msgtype != "ACK":
            raise RuntimeError(f"expected ACK, got {ack.msgtype}")
        await self._send("PULL-DOC-REQ", {})
        while True:
            reply = await self._read()
            if reply.msgtype == "PULL-DOC-REPLY":
                break
            self._count(reply)
        self.feed_id = _find_feed_id(reply.content.get("doc"))
        # What a browser sends once it has drawn the page: the session's updates flow
        # from then on (dashboard.session._Inbox).
        await self._send("PATCH-DOC", {"events": [{
            "kind": "MessageSent", "msg_type": "bokeh_event", "msg_data": {
                "type": "event", "name": "document_ready", "values": {"type": "map"}}}]})
        self._task = asyncio.create_task(self._pump())

    async def _read(self) -> Any:
        while True:
            fragment = await self.ws.read_message()
            if fragment is None:
                raise ConnectionError("websocket closed by the server")
            message = await self._receiver.consume(fragment)
            if message is not None:
                return message

    async def _send(self, msgtype: str, content: dict) -> None:
        header = {"msgid": f"c{next(self._ids)}", "msgtype": msgtype}
        for part in (header, {}, content):
            await self.ws.write_message(json.dumps(part))

    def _count(self, message: Any) -> None:
        if message.msgtype != "PATCH-DOC":
            return
        self.patches += 1
        for event in message.content.get("events", []):
            if (event.get("kind") == "ModelChanged" and event.get("attr") == "text"
                    and (event.get("model") or {}).get("id") == self.feed_id):
                self.feed_changes += 1
                now = time.time()
                for token in _PROBE.findall(str(event.get("new", ""))):
                    self.tokens.setdefault(token, now)

    async def _pump(self) -> None:
        try:
            while True:
                self._count(await self._read())
        except (ConnectionError, asyncio.CancelledError):
            self.closed_by_server = self.ws is not None and self.ws.close_code is not None
        except Exception:  # a message we cannot parse: stop counting, say so
            self.closed_by_server = True

    def reset(self) -> None:
        self.patches = self.feed_changes = 0

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.ws is not None:
            self.ws.close()
            self.ws = None



async def open_clients(base_url: str, count: int, path: str = "/", parallel: int = 2,
                       timeout: float = 60, failures: list | None = None) -> list[BokehClient]:
    """``count`` sessions, at most ``parallel`` being created at once.

    With ``failures`` given, a session that does not open within ``timeout`` is
    recorded there (and left out) instead of raising.
    """
    gate = asyncio.Semaphore(parallel)

    async def one() -> BokehClient | None:
        async with gate:
            client = BokehClient(base_url, path)
            try:
                return await client.open(timeout)
            except Exception as err:
                if failures is None:
                    raise
                failures.append(repr(err))
                await client.close()
                return None

    opened = await asyncio.gather(*(one() for _ in range(count)))
    return [c for c in opened if c is not None]


async def close_clients(clients: list[BokehClient]) -> None:
    await asyncio.gather(*(c.close() for c in clients))


# -- a real browser ----------------------------------------------------------

async def launch_chromium(playwright: Any) -> Any:
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


async def local_only(page: Any) -> list[str]:
    """Abort every request that would leave this machine; the list of aborted URLs."""
    blocked: list[str] = []

    async def route(r: Any) -> None:
        url = r.request.url
        if is_local(url):
            await r.continue_()
        else:
            blocked.append(url)
            await r.abort()

    await page.route("**/*", route)
    return blocked


async def open_dashboard(page: Any, url: str) -> None:
    await page.goto(url)
    await page.wait_for_function(READY, timeout=60_000)


#: Installed on the feed pane's shadow root: for every feed message (``.msg``)
#: whose whole text matches ``pattern`` records ``Date.now()`` of the first DOM
#: mutation that showed it (in ``window.__seen``), and counts the mutation
#: batches (``__feedMutations``).  Messages are read one element at a time: the
#: root's textContent runs a message into the next line's clock.
FEED_OBSERVER_JS = """
(el, pattern) => {
  const root = el.getRootNode();
  const re = new RegExp("^(?:" + pattern + ")$");
  window.__seen = window.__seen || {};
  window.__feedMutations = window.__feedMutations || 0;
  if (window.__feedObserver) window.__feedObserver.disconnect();
  const scan = () => {
    const now = Date.now();
    for (const m of root.querySelectorAll(".msg")) {
      const text = m.textContent.trim();
      if (re.test(text) && !(text in window.__seen)) window.__seen[text] = now;
    }
  };
  const observer = new MutationObserver(() => { window.__feedMutations += 1; scan(); });
  observer.observe(root, {childList: true, subtree: true, characterData: true});
  window.__feedObserver = observer;
  window.__feedRoot = root;
  scan();
  return root instanceof ShadowRoot;
}
"""

#: The feed's <ul> (or its "no status changes yet" div): Playwright's CSS pierces shadow roots.
FEED_SELECTOR = "ul.feed, div.feed-empty"


async def observe_feed(page: Any, pattern: str) -> bool:
    """Install the feed observer; True when the feed was found inside a shadow root."""
    feed = page.locator(FEED_SELECTOR).first
    await feed.wait_for(state="attached", timeout=60_000)
    return await feed.evaluate(FEED_OBSERVER_JS, pattern)


async def feed_observer_alive(page: Any) -> bool:
    return await page.evaluate("() => !!(window.__feedRoot && window.__feedRoot.host "
                               "&& window.__feedRoot.host.isConnected)")
