"""The collector's second chance for abandoned configs (gemmsift.collect.abandon)."""

from gemmsift.collect.abandon import time_with_second_chance


def scripted(*results):
    """A time_once that returns the given results in turn and records the limits it was given."""
    calls = []

    def time_once(limit):
        calls.append(limit)
        return results[len(calls) - 1]
    return time_once, calls


def test_a_glitch_gets_a_second_try_and_its_launches_count():
    fn, calls = scripted(("abandoned", 107.3, 113.5, 2), ("ok", 7.9, 8.1, 12))
    assert time_with_second_chance(fn, 30.0) == ("ok", 7.9, 8.1, 14)
    assert calls == [30.0, 30.0]


def test_a_slow_config_stays_abandoned_with_its_fastest_try():
    fn, calls = scripted(("abandoned", 120.0, 121.0, 2), ("abandoned", 110.0, 112.0, 2), ("ok", 1.0, 1.0, 10))
    assert time_with_second_chance(fn, 30.0) == ("abandoned", 110.0, 112.0, 4)
    assert len(calls) == 2  # one retry by default
    fn, calls = scripted(("abandoned", 120.0, 121.0, 2), ("abandoned", 130.0, 131.0, 2), ("ok", 9.0, 9.5, 10))
    assert time_with_second_chance(fn, 30.0, retries=2) == ("ok", 9.0, 9.5, 14)
    fn, calls = scripted(("abandoned", 120.0, 121.0, 2), ("abandoned", 130.0, 131.0, 2))
    assert time_with_second_chance(fn, 30.0) == ("abandoned", 120.0, 121.0, 4)


def test_no_retry_when_not_abandoned_or_retries_off():
    fn, calls = scripted(("ok", 5.0, 5.5, 12))
    assert time_with_second_chance(fn, None) == ("ok", 5.0, 5.5, 12)
    assert calls == [None]
    fn, calls = scripted(("abandoned", 50.0, 51.0, 2))
    assert time_with_second_chance(fn, 20.0, retries=0) == ("abandoned", 50.0, 51.0, 2)
    assert len(calls) == 1
