"""The timer's guard against a slow host (gemmsift.collect.timing.Timer): the GPU spin before each
start event covers the launch only while the host enqueues the start event, the kernel and the end
event in less time than the spin lasts. A launch that took the host longer is not counted; a run
with none counted is repeated with a longer spin. Runs here on a stand-in for torch: a GPU clock
that the spin and the kernel advance, and a host clock that each launch advances by a scripted
amount (no GPU)."""

import importlib
import sys
import types

import pytest

import gemmsift.collect

GHZ = 2.0  # the stand-in GPU's clock: 200,000 cycles spin for 100 us


class FakeGPU:
    """launches: (host_us, gpu_us) per kernel launch, in turn: how long the host takes to enqueue
    the start event, the kernel and the end event, and what the events then read."""

    def __init__(self, launches):
        self.launches = list(launches)
        self.gpu_us = 0.0
        self.host_us = 0.0
        self.spins = []

    def kernel(self):
        host_us, gpu_us = self.launches.pop(0)
        self.host_us += host_us
        self.gpu_us += gpu_us

    def sleep(self, cycles):
        self.spins.append(cycles)
        self.gpu_us += cycles / (GHZ * 1000.0)


def load_timing(monkeypatch, gpu):
    class Event:
        def __init__(self, enable_timing=False):
            self.at = None

        def record(self):
            self.at = gpu.gpu_us

        def elapsed_time(self, end):
            return (end.at - self.at) / 1000.0  # milliseconds, as torch's

    class Buffer:
        def zero_(self):
            return self

    torch = types.ModuleType("torch")
    torch.int = "int32"
    torch.device = lambda *a: ("cuda",) + a
    torch.empty = lambda n, dtype=None, device=None: Buffer()
    torch.cuda = types.SimpleNamespace(
        Event=Event, _sleep=gpu.sleep, synchronize=lambda: None,
        get_device_properties=lambda device: types.SimpleNamespace(L2_cache_size=50 * 2**20))
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.delitem(sys.modules, "gemmsift.collect.timing", raising=False)
    monkeypatch.delattr(gemmsift.collect, "timing", raising=False)
    timing = importlib.import_module("gemmsift.collect.timing")
    monkeypatch.setattr(timing, "time", types.SimpleNamespace(perf_counter=lambda: gpu.host_us / 1e6))
    return timing


def make_timer(monkeypatch, launches, **kw):
    gpu = FakeGPU(launches)
    timing = load_timing(monkeypatch, gpu)
    timer = timing.Timer(estimation_iters=2, max_iters=10, budget_ms=0.05, **kw)
    gpu.spins.clear()  # the calibration's
    return timer, gpu


def test_the_spin_is_measured_when_the_timer_is_made(monkeypatch):
    timer, _ = make_timer(monkeypatch, launches=[])
    assert timer.spin_us == pytest.approx(100.0)


def test_a_launch_the_host_was_slow_to_enqueue_is_not_counted(monkeypatch):
    # 10 us kernel: 2 estimation launches, then 5 timed (0.05 ms budget). The second timed launch
    # took the host 150 us, longer than the 100 us spin: its 60 us reading is dropped.
    launches = [(40, 10.0), (40, 10.2)] + [(40, 10.1), (150, 60.0), (40, 10.3), (40, 10.4), (40, 10.5)]
    timer, gpu = make_timer(monkeypatch, launches)
    status, tmin, tmed, iters = timer.time(gpu.kernel)
    assert (status, tmin, iters) == ("ok", 10.0, 6)
    assert tmed == pytest.approx(10.35)  # median of the four covered timed launches, not 60 us's
    assert (timer.launches_dropped, timer.reruns, timer.host_bound) == (1, 0, 0)
    assert gpu.spins == [200_000] * 7


def test_no_abandoning_on_launches_the_spin_did_not_cover(monkeypatch):
    # A 3.5 us kernel on a busy host: both estimation launches took the host 160 us and read
    # 60 us, above the 14 us abandon limit. The run is repeated with a 4 times longer spin,
    # which covers them, and the config is timed, not abandoned.
    # The 10 timed launches (0.05 ms budget / 3.5 us, at most 10) go the same way.
    launches = ([(160, 60.0), (160, 61.0), (160, 3.6), (160, 3.7)]
                + [(160, 58.0)] * 10 + [(160, 3.5 + i / 10) for i in range(10)])
    timer, gpu = make_timer(monkeypatch, launches)
    status, tmin, tmed, iters = timer.time(gpu.kernel, abandon_above_us=14.0)
    assert (status, tmin, iters) == ("ok", 3.5, 12)
    assert tmed == pytest.approx(3.95)
    assert gpu.spins == [200_000] * 2 + [800_000] * 2 + [200_000] * 10 + [800_000] * 10
    assert not gpu.launches
    assert timer.reruns == 2  # the estimation and the timed launches each needed the longer spin
    assert timer.host_bound == 0


def test_a_slow_config_is_still_abandoned(monkeypatch):
    launches = [(40, 80.0), (40, 81.0)]
    timer, gpu = make_timer(monkeypatch, launches)
    assert timer.time(gpu.kernel, abandon_above_us=14.0) == ("abandoned", 80.0, 80.5, 2)
    assert timer.reruns == 0


def test_host_bound_at_every_spin_returns_all_launches_and_says_so(monkeypatch):
    # 1,700 us of host time a launch: longer than the spin even at 16 times (1,600 us).
    launches = [(1700, 50.0), (1700, 52.0)] * 3
    timer, gpu = make_timer(monkeypatch, launches)
    assert timer.time(gpu.kernel, abandon_above_us=14.0) == ("abandoned", 50.0, 51.0, 2)
    assert gpu.spins == [200_000] * 2 + [800_000] * 2 + [3_200_000] * 2
    assert (timer.reruns, timer.host_bound) == (2, 1)


def test_no_spin_no_guard(monkeypatch):
    launches = [(500, 60.0), (500, 61.0)]
    timer, gpu = make_timer(monkeypatch, launches, spin_cycles=0)
    assert timer.spin_us == 0.0
    assert timer.time(gpu.kernel, abandon_above_us=14.0) == ("abandoned", 60.0, 60.5, 2)
    assert gpu.spins == [] and timer.reruns == 0
