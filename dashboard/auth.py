"""``--basic-auth``: Panel's login page, with a logout that ends the login and a slow guesser.

Panel's own basic auth keeps the login only in a signed ``user`` cookie: its
logout merely asks the browser to forget it, so a copy of the cookie (a
shared machine, a proxy log) keeps working for days.  And it answers every
password at once, so 200 guesses took 2.4 s.  Here:

- each login gets a random token, kept in this process (:class:`Logins`) and in
  a second signed cookie; a request is logged in only while its token is kept,
  and ``/logout`` drops it.  A restarted server has forgotten every login.
- failed logins are counted per client address (:class:`Throttle`): after
  ``FREE_FAILURES`` each next attempt from there must wait 1, 2, 4 … up to
  60 s, and one that comes earlier is answered 429 without its password being
  looked at.  Nothing sleeps: the event loop stays free for everyone else.
"""

from __future__ import annotations

import functools
import hmac
import json
import math
import os
import secrets
import time
from collections import OrderedDict
from typing import Any

from panel.auth import BasicAuthProvider, BasicLoginHandler, LogoutHandler
from panel.config import config
from panel.io.resources import CDN_DIST
from tornado.web import RequestHandler

#: The cookie holding a login's token (signed with the cookie secret, like ``user``).
LOGIN_COOKIE = "lute_login"
FREE_FAILURES = 5
FIRST_DELAY_S = 1.0
MAX_DELAY_S = 60.0
#: An address whose last failure is this old starts afresh.
FORGET_S = 15 * 60.0
#: Addresses (and logins) remembered at most; the oldest go first.
MAX_REMEMBERED = 10_000


def password_matches(basic_auth: str, username: str, password: str) -> bool:
    """Check a login against ``--basic-auth``: a JSON file of {user: password}, or one password.

    Read at each attempt, as Panel does, so that editing the file needs no
    restart; compared in constant time.
    """
    users: Any = basic_auth
    if os.path.isfile(basic_auth):
        with open(basic_auth, encoding="utf-8") as file:
            users = json.load(file)
    if isinstance(users, dict):
        expected = users.get(username)
        if not isinstance(expected, str):
            return False
    else:
        expected = str(users)
    return hmac.compare_digest(expected.encode(), password.encode())


class Logins:
    """The logins this process handed out: token → (user, expiry on the monotonic clock)."""

    def __init__(self, lifetime_s: float) -> None:
        self.lifetime_s = lifetime_s
        self._tokens: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def open(self, user: str) -> str:
        now = time.monotonic()
        for token, (_, expires) in list(self._tokens.items()):
            if expires < now:
                del self._tokens[token]
        while len(self._tokens) >= MAX_REMEMBERED:
            self._tokens.popitem(last=False)
        token = secrets.token_urlsafe(32)
        self._tokens[token] = (user, now + self.lifetime_s)
        return token

    def user(self, token: str) -> str | None:
        user, expires = self._tokens.get(token, (None, 0.0))
        return user if expires >= time.monotonic() else None

    def close(self, token: str) -> None:
        self._tokens.pop(token, None)


class Throttle:
    """Failed logins per client address, and how long each must wait before its next try."""

    def __init__(self) -> None:
        #: address → (consecutive failures, time of the last one)
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def wait_s(self, client: str) -> float:
        """Seconds before ``client`` may try again; 0 when it may now."""
        count, last = self._failures.get(client, (0, 0.0))
        if count < FREE_FAILURES:
            return 0.0
        delay = min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (count - FREE_FAILURES))
        return max(0.0, last + delay - time.monotonic())

    def failed(self, client: str) -> None:
        now = time.monotonic()
        count, last = self._failures.pop(client, (0, now))
        if now - last > FORGET_S:
            count = 0
        self._failures[client] = (count + 1, now)
        while len(self._failures) > MAX_REMEMBERED:
            self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)


class LuteLoginHandler(BasicLoginHandler):
    """Panel's login page and form; each attempt in its turn, each login with its own token."""

    provider: LuteAuthProvider

    def post(self) -> None:
        wait = self.provider.throttle.wait_s(self.request.remote_ip or "")
        if wait > 0:
            seconds = math.ceil(wait)
            self.set_status(429)
            self.set_header("Retry-After", str(seconds))
            self.write(self._login_template.render(
                login_endpoint=self._login_endpoint, PANEL_CDN=CDN_DIST,
                errormessage=f"Too many failed logins from your address: try again in "
                             f"{seconds} s."))
            return
        super().post()  # checks the password with _validate below

    def _validate(self, username: str, password: str) -> bool:
        client = self.request.remote_ip or ""
        if password_matches(self.provider.basic_auth, username, password):
            self.provider.throttle.succeeded(client)
            return True
        self.provider.throttle.failed(client)
        return False

    def set_current_user(self, user: str) -> None:
        super().set_current_user(user)
        if user:
            self.set_secure_cookie(LOGIN_COOKIE, self.provider.logins.open(user),
                                   expires_days=config.oauth_expiry, httponly=True,
                                   path=config.cookie_path)


class LuteLogoutHandler(LogoutHandler):
    """Panel's logout page; the login's token is dropped, so its cookies stop working."""

    provider: LuteAuthProvider

    def get(self) -> None:
        token = self.get_secure_cookie(LOGIN_COOKIE, max_age_days=config.oauth_expiry)
        if token:
            self.provider.logins.close(token.decode())
        self.clear_cookie(LOGIN_COOKIE, path=config.cookie_path)
        super().get()


class LuteAuthProvider(BasicAuthProvider):
    """Panel's ``BasicAuthProvider`` with server-side logins and throttled attempts.

    Given to ``pn.serve(auth_provider=...)`` in place of ``basic_auth=``.
    """

    def __init__(self, basic_auth: str, **kwargs: Any) -> None:
        self.basic_auth = basic_auth
        self.logins = Logins(lifetime_s=config.oauth_expiry * 86400)
        self.throttle = Throttle()
        super().__init__(**kwargs)

    # Classes of this provider's own: Panel sets its settings on its handler classes.
    @functools.cached_property
    def login_handler(self) -> type[RequestHandler]:
        return type("LoginHandler", (LuteLoginHandler,), {
            "provider": self, "_login_endpoint": self._login_endpoint,
            "_login_template": self._login_template})

    @functools.cached_property
    def logout_handler(self) -> type[RequestHandler]:
        return type("LogoutHandler", (LuteLogoutHandler,), {
            "provider": self, "_login_endpoint": self._login_endpoint,
            "_logout_template": self._logout_template})

    @property
    def get_user(self) -> Any:
        """Panel's check of the ``user`` cookie, only for a login this process still keeps."""
        panel_get_user = super().get_user

        def get_user(handler: RequestHandler) -> str | None:
            token = handler.get_secure_cookie(LOGIN_COOKIE, max_age_days=config.oauth_expiry)
            user = handler.get_secure_cookie("user", max_age_days=config.oauth_expiry)
            if not token or not user or self.logins.user(token.decode()) != user.decode():
                return None
            return panel_get_user(handler)

        return get_user
