"""The one harness of the tests and the benches: servers, waits, the browser, example data.

- ``servers``: the real ``lute-dashboard serve`` (or any server) in its own process,
  and a bare Panel server in a thread of the test process.
- ``waits``: ``wait_until``, polling a condition instead of sleeping.
- ``browser``: Debian's chromium, "the page is ready", what the page shows.
- ``experiments``: result directories as LUTE leaves them, and copies of the examples.
- ``fixtures``: the pytest fixtures built on these (registered in ``tests/conftest.py``).

It lives beside the tests, not in the shipped ``dashboard`` package: nothing a
user installs starts test servers.
"""
