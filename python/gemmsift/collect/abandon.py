"""Abandoning slow configs during collection (torch-free, so it is tested without a GPU)."""


def time_with_second_chance(time_once, abandon_above_us, retries=1):
    """time_once(abandon_above_us) -> (status, min_us, median_us, launches): one Timer.time call,
    "abandoned" when its estimation launches already exceed abandon_above_us (None: never).
    A config abandoned that way gets `retries` more tries before its row says so: two slow
    launches can be a passing glitch rather than a slow config (an H200 row of NT test_llm read
    107 us where the same tile with 4 stages ran in 7.1 us, docs/results.md). Returns the first
    try that was not abandoned, with the launches of every try counted; otherwise "abandoned" with
    the fastest try's times."""
    status, tmin, tmed, launches = time_once(abandon_above_us)
    for _ in range(retries if status == "abandoned" else 0):
        again, amin, amed, alaunches = time_once(abandon_above_us)
        launches += alaunches
        if again != "abandoned":
            return again, amin, amed, launches
        if amin < tmin:
            tmin, tmed = amin, amed
    return status, tmin, tmed, launches
