"""Timing one (problem, config) the way Inductor's autotuner does (torch 2.11,
torch/_inductor/runtime/benchmarking.py, InductorBenchmarker.benchmark_gpu): the L2 is flushed
before every timed launch by zeroing an L2-sized buffer, each launch is timed with its own pair of
CUDA events, a few estimation launches come first, and the minimum is the result. Datasets use
fewer timed launches than Inductor (which allows up to 100 within 25 ms); the count, the minimum
and the median are all recorded (EVALUATION.md)."""

import statistics

import torch


class Timer:
    def __init__(self, device=None, estimation_iters=2, max_iters=10, budget_ms=5.0, spin_cycles=200_000):
        device = torch.device("cuda") if device is None else device
        l2 = torch.cuda.get_device_properties(device).L2_cache_size
        # Same buffer as Inductor: L2 bytes as int32 (triton-lang/triton#840 for why int).
        self.buffer = torch.empty(l2 // 4, dtype=torch.int, device=device)
        self.estimation_iters = estimation_iters
        self.max_iters = max_iters
        self.budget_ms = budget_ms
        # A GPU spin between the flush and the start event keeps the GPU busy while Python enqueues
        # the event and the launch (45-80 us for a Triton launch from Python): without it the
        # start event fires early and the timing includes that CPU gap (measured on an H100:
        # 2048^3 read 58 us without, 31 us with).
        self.spin_cycles = spin_cycles
        self._events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                        for _ in range(estimation_iters + max_iters)]

    def _run(self, fn, pairs):
        for start, end in pairs:
            self.buffer.zero_()
            if self.spin_cycles:
                torch.cuda._sleep(self.spin_cycles)
            start.record()
            fn()
            end.record()
        torch.cuda.synchronize()
        return [s.elapsed_time(e) * 1000.0 for s, e in pairs]  # microseconds

    def _launch_count(self, est, budget_ms=None):
        budget = self.budget_ms if budget_ms is None else budget_ms
        return max(1, min(self.max_iters, int(budget * 1000.0 / max(min(est), 1e-3))))

    def time(self, fn, abandon_above_us=None):
        """Returns (status, min_us, median_us, iterations). status is "ok", or "abandoned" when
        the estimation launches already took more than abandon_above_us (only those count)."""
        est = self._run(fn, self._events[:self.estimation_iters])
        if abandon_above_us is not None and min(est) > abandon_above_us:
            return "abandoned", min(est), statistics.median(est), len(est)
        n = self._launch_count(est)
        timed = self._run(fn, self._events[self.estimation_iters:self.estimation_iters + n])
        return "ok", min(min(est), min(timed)), statistics.median(timed), len(est) + n

    def samples(self, fn, budget_ms=None):
        """The timed launches' times in microseconds (after the estimation launches, which are
        not returned): as many as fit in budget_ms (default: the timer's), at most max_iters."""
        est = self._run(fn, self._events[:self.estimation_iters])
        n = self._launch_count(est, budget_ms)
        return self._run(fn, self._events[self.estimation_iters:self.estimation_iters + n])


def first_call(fn):
    """As Inductor's and Triton's benchmarkers begin: earlier errors shaken out, then one untimed
    call (compilation, lazy initialisation, first-launch costs; a choice that cannot launch raises
    here, before any timing)."""
    torch.cuda.synchronize()
    fn()
    torch.cuda.synchronize()


_shared = {}


def autotune_timer(device_index):
    """The timer with Inductor's autotuning settings (5 estimation launches, then up to 100 within
    25 ms) for one CUDA device, made once per process: gemmsift's timer inside Inductor's
    autotuning and gemmsift.triton.do_bench share it."""
    timer = _shared.get(device_index)
    if timer is None:
        timer = _shared[device_index] = Timer(torch.device("cuda", device_index), estimation_iters=5,
                                              max_iters=100, budget_ms=25.0)
    return timer
