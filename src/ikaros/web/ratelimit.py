"""Login rate limit: exponential backoff per account and per client address.

Every password check (login form, HTTP Basic, password change) is an attempt against two keys:
the account name as typed and the client address (an IPv6 client by its /64 network, which one
host usually controls whole). A key's first failures are free (:attr:`LoginLimiter.account_free`
for an account, :attr:`LoginLimiter.address_free` for an address); after that each failure
blocks the key for ``base * 2**k`` seconds (1, 2, 4, ... up to :attr:`LoginLimiter.cap`). While
either key is blocked the password is not even checked: the answer is 429 with ``Retry-After``,
whatever the password. A key is forgotten after :attr:`LoginLimiter.forget_after` seconds without
failures; a successful check clears the account's failures (not the address's, or one valid
account would let an address guess at all the others).

Checks in progress are bounded too (:attr:`LoginLimiter.account_parallel`,
:attr:`LoginLimiter.address_parallel`; beyond them 429 with ``Retry-After: 1``), so a burst of
parallel guesses cannot all be checked before the first failures are counted.

The state is in the server's memory (one process serves the workbench); it is lost on restart,
and it holds at most :attr:`LoginLimiter.max_keys` keys per kind, the least recently used
forgotten first.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Attempt", "LoginLimiter", "address_key"]


def address_key(host: str | None) -> str:
    """The rate-limit key of a client address: IPv4 as is, IPv6 by its /64 network."""
    if not host:
        return "?"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass
class _Key:
    failures: int = 0
    last: float = 0.0
    pending: int = 0


@dataclass(frozen=True)
class Attempt:
    """A password check in progress; end it with :meth:`LoginLimiter.finish`."""

    account: str | None
    address: str


class LoginLimiter:
    """Counts failed password checks per account and per address; blocks with backoff."""

    account_free = 5
    address_free = 10
    account_parallel = 4
    address_parallel = 16
    base = 1.0
    cap = 900.0
    forget_after = 3600.0
    max_keys = 50_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._accounts: OrderedDict[str, _Key] = OrderedDict()
        self._addresses: OrderedDict[str, _Key] = OrderedDict()

    def _delay(self, failures: int, free: int) -> float:
        over = failures - free
        return 0.0 if over <= 0 else min(self.cap, self.base * 2.0 ** (over - 1))

    def _get(self, table: OrderedDict[str, _Key], key: str, now: float) -> _Key:
        entry = table.pop(key, None)
        if entry is None or (entry.pending == 0 and now - entry.last > self.forget_after):
            entry = _Key()
        table[key] = entry  # most recently used last
        while len(table) > self.max_keys:
            table.popitem(last=False)
        return entry

    def _wait(self, entry: _Key, free: int, parallel: int, now: float) -> float:
        blocked = entry.last + self._delay(entry.failures, free) - now
        if blocked > 0:
            return blocked
        return 1.0 if entry.pending >= parallel else 0.0

    def begin(self, account: str | None, address: str | None) -> Attempt | int:
        """Start a password check: an :class:`Attempt`, or the seconds to wait (blocked).

        ``account`` is None for a check not tied to an account (a bearer token).
        """
        addr = address_key(address)
        acct = None if account is None else account[:64]
        now = self.clock()
        with self._lock:
            by_address = self._get(self._addresses, addr, now)
            wait = self._wait(by_address, self.address_free, self.address_parallel, now)
            by_account = None
            if acct is not None:
                by_account = self._get(self._accounts, acct, now)
                wait = max(
                    wait, self._wait(by_account, self.account_free, self.account_parallel, now)
                )
            if wait > 0:
                if acct is not None and by_account == _Key():
                    del self._accounts[acct]  # created by the look-up above
                return max(1, math.ceil(wait))
            by_address.pending += 1
            if by_account is not None:
                by_account.pending += 1
        return Attempt(acct, addr)

    def finish(self, attempt: Attempt, ok: bool) -> None:
        """End a check: a failure counts against both keys; a success clears the account."""
        now = self.clock()
        with self._lock:
            keys = [(self._addresses, attempt.address, False)]
            if attempt.account is not None:
                keys.append((self._accounts, attempt.account, True))
            for table, key, is_account in keys:
                entry = self._get(table, key, now)
                entry.pending = max(0, entry.pending - 1)
                if not ok:
                    entry.failures += 1
                    entry.last = now
                elif is_account:
                    entry.failures = 0
                if entry.failures == 0 and entry.pending == 0:
                    del table[key]

    def retry_after(self, account: str | None, address: str | None) -> int:
        """Seconds until ``account`` and ``address`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            entries = [(self._addresses.get(address_key(address)), self.address_free)]
            if account is not None:
                entries.append((self._accounts.get(account[:64]), self.account_free))
            wait = max(
                (e.last + self._delay(e.failures, free) - now for e, free in entries if e),
                default=0.0,
            )
        return 0 if wait <= 0 else max(1, math.ceil(wait))
