import threading
import time

import pytest

from clipmill.models.cache import cached_keys, cached_model, clear_model_cache


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        return object()


def test_same_key_returns_the_same_instance(fresh_cache):
    factory = Counter()
    first = cached_model(("test", "a"), factory)
    assert cached_model(("test", "a"), factory) is first
    assert factory.calls == 1
    assert ("test", "a") in cached_keys()


def test_different_keys_get_different_instances(fresh_cache):
    assert cached_model(("test", "a"), Counter()) is not cached_model(("test", "b"), Counter())


def test_concurrent_requests_load_once(fresh_cache):
    calls = []

    def slow_factory() -> object:
        calls.append(1)
        time.sleep(0.05)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(cached_model(("test", "slow"), slow_factory))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len({id(result) for result in results}) == 1


def test_failed_load_is_not_cached(fresh_cache):
    def failing() -> object:
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        cached_model(("test", "flaky"), failing)
    factory = Counter()
    cached_model(("test", "flaky"), factory)
    assert factory.calls == 1


def test_clear_forgets_models(fresh_cache):
    factory = Counter()
    first = cached_model(("test", "a"), factory)
    clear_model_cache()
    assert cached_keys() == []
    assert cached_model(("test", "a"), factory) is not first
    assert factory.calls == 2
