"""The two kinds of error trustproxy raises.

Following h11's split between "you got it wrong" and "the peer got it wrong":

* :class:`ConfigError` — the *operator* wrote a bad configuration.  Raised when a
  middleware or :class:`~trustproxy.Resolver` is built, never while serving.
* :class:`HeaderError` — a *peer* sent something malformed.  The middlewares never let it
  escape: they ignore the value and record why in the :class:`~trustproxy.Resolution`.
  The parsing helpers raise it so callers can point at the offending characters.
"""

from __future__ import annotations

__all__ = ["ConfigError", "HeaderError"]


class ConfigError(ValueError):
    """A trust policy, hop count, field list or header family is invalid."""


class HeaderError(ValueError):
    """A forwarding header value is malformed.

    ``text`` is the value that was examined and ``position`` the index of the first
    character that could not be accepted (``-1`` when the value as a whole is wrong).
    """

    def __init__(self, message: str, text: str = "", position: int = -1) -> None:
        super().__init__(message)
        self.text = text
        self.position = position

    def __str__(self) -> str:
        base = super().__str__()
        if self.position >= 0:
            return f"{base} (at character {self.position} of {self.text!r})"
        return base
