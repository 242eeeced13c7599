"""The login rate limit: free failures, then exponential backoff per account and per address."""

from __future__ import annotations

import threading

import pytest

from ikaros.web.ratelimit import Attempt, LoginLimiter, address_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(clock: Clock) -> LoginLimiter:
    return LoginLimiter(clock=clock)


def fail(limiter: LoginLimiter, account: str | None, address: str) -> int | None:
    """One wrong password: None if it was checked, else the seconds to wait."""
    attempt = limiter.begin(account, address)
    if isinstance(attempt, int):
        return attempt
    limiter.finish(attempt, ok=False)
    return None


def test_account_backoff_doubles_up_to_the_cap(limiter: LoginLimiter, clock: Clock) -> None:
    # 5 free failures, each from another address (so only the account counts)
    for i in range(limiter.account_free):
        assert fail(limiter, "alice", f"10.0.0.{i}") is None
    assert limiter.retry_after("alice", "10.9.9.9") == 0
    waits = []
    for i in range(12):
        assert fail(limiter, "alice", f"10.1.0.{i}") is None  # checked: it was not blocked
        wait = limiter.retry_after("alice", f"10.2.0.{i}")
        waits.append(wait)
        blocked = limiter.begin("alice", f"10.3.0.{i}")
        assert blocked == wait  # blocked now, for exactly that long, whatever the address
        clock.now += wait  # wait it out
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
    # another account is not affected
    assert limiter.retry_after("bob", "10.4.0.1") == 0


def test_success_clears_the_account_not_the_address(limiter: LoginLimiter, clock: Clock) -> None:
    for _ in range(limiter.account_free):
        assert fail(limiter, "alice", "10.0.0.1") is None
    attempt = limiter.begin("alice", "10.0.0.1")
    assert isinstance(attempt, Attempt)
    limiter.finish(attempt, ok=True)
    assert limiter.retry_after("alice", "10.0.0.2") == 0
    # the address keeps its 5 failures: 5 more are free, the 11th blocks it
    for i in range(limiter.address_free - limiter.account_free):
        assert fail(limiter, f"user{i}", "10.0.0.1") is None
    assert fail(limiter, "other", "10.0.0.1") is None
    assert fail(limiter, "another", "10.0.0.1") == 1
    assert limiter.retry_after(None, "10.0.0.1") == 1
    assert limiter.retry_after("another", "10.0.0.2") == 0  # other addresses go on


def test_address_backoff_across_accounts(limiter: LoginLimiter) -> None:
    for i in range(limiter.address_free):
        assert fail(limiter, f"name{i}", "192.0.2.7") is None
    assert fail(limiter, "name-x", "192.0.2.7") is None  # 11th failure: checked, then blocked
    assert fail(limiter, "alice", "192.0.2.7") == 1
    assert fail(limiter, "alice", "192.0.2.8") is None


def test_ipv6_clients_count_per_64_network(limiter: LoginLimiter) -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    for i in range(limiter.address_free + 1):
        assert fail(limiter, f"n{i}", f"2001:db8:1:2::{i + 1:x}") is None
    assert fail(limiter, "m", "2001:db8:1:2:9::9") == 1
    assert fail(limiter, "m", "2001:db8:1:3::1") is None


def test_failures_are_forgotten_after_a_quiet_hour(limiter: LoginLimiter, clock: Clock) -> None:
    for _ in range(limiter.account_free + 3):
        clock.now += 10.0
        assert fail(limiter, "alice", "10.0.0.1") is None
    assert limiter.retry_after("alice", "10.0.0.9") > 0
    clock.now += limiter.forget_after + 1
    assert limiter.retry_after("alice", "10.0.0.9") == 0
    assert fail(limiter, "alice", "10.0.0.1") is None
    assert limiter.retry_after("alice", "10.0.0.9") == 0  # back to the free failures


def test_parallel_checks_are_bounded(limiter: LoginLimiter) -> None:
    """A burst of simultaneous guesses: only a few are checked before failures are counted."""
    started = [limiter.begin("alice", f"10.0.0.{i}") for i in range(50)]
    checked = [a for a in started if isinstance(a, Attempt)]
    assert len(checked) == limiter.account_parallel
    assert all(a == 1 for a in started if not isinstance(a, Attempt))
    for a in checked:
        limiter.finish(a, ok=False)
    assert isinstance(limiter.begin("alice", "10.0.1.1"), Attempt)  # 4 failures: still free


def test_threads_never_exceed_the_free_failures(limiter: LoginLimiter) -> None:
    """8 threads x 20 wrong passwords for one account: at most the free ones are checked
    (plus what was in flight when the block started)."""
    checked = []
    lock = threading.Lock()

    def guess(t: int) -> None:
        for i in range(20):
            a = limiter.begin("alice", f"10.{t}.0.{i}")
            if isinstance(a, Attempt):
                with lock:
                    checked.append(a)
                limiter.finish(a, ok=False)

    threads = [threading.Thread(target=guess, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert limiter.account_free < len(checked) <= limiter.account_free + limiter.account_parallel


def test_memory_is_bounded(clock: Clock) -> None:
    limiter = LoginLimiter(clock=clock)
    limiter.max_keys = 100
    for i in range(1000):
        fail(limiter, f"user{i}", f"10.0.{i // 250}.{i % 250}")
    assert len(limiter._accounts) <= 100 and len(limiter._addresses) <= 100
