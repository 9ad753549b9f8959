"""Timing one (problem, config) the way Inductor's autotuner does (torch 2.11,
torch/_inductor/runtime/benchmarking.py, InductorBenchmarker.benchmark_gpu): the L2 is flushed
before every timed launch by zeroing an L2-sized buffer, each launch is timed with its own pair of
CUDA events, a few estimation launches come first, and the minimum is the result. Datasets use
fewer timed launches than Inductor (which allows up to 100 within 25 ms); the count, the minimum
and the median are all recorded (EVALUATION.md)."""

import statistics
import time

import torch


SPIN_CYCLES = 200_000  # the GPU spin before each start event (below)
SPIN_GROWTH = 4        # a repeated run's spin is this many times the previous one's
SPIN_ESCALATIONS = 2   # at most this many repeats


class Timer:
    def __init__(self, device=None, estimation_iters=2, max_iters=10, budget_ms=5.0, spin_cycles=SPIN_CYCLES,
                 spin_escalations=SPIN_ESCALATIONS):
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
        # The spin covers the launch only while the host enqueues the start event, the launch and
        # the end event in less time than the spin lasts. A busy host can take longer: one H200
        # read 15-120 us for 3.5 us kernels for a few seconds (docs/collection.md, session 21),
        # as without a spin. So the host's time for each launch is measured, a launch that took
        # longer than the spin is not counted, and a run with no launch left is repeated with a
        # spin SPIN_GROWTH times as long, at most spin_escalations times.
        self.spin_cycles = spin_cycles
        self.spin_escalations = spin_escalations
        self._events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                        for _ in range(estimation_iters + max_iters)]
        self.spin_us = self._spin_us() if spin_cycles else 0.0
        self.launches_dropped = 0  # launches not counted: the host took longer than the spin
        self.reruns = 0            # runs repeated with a longer spin (no launch of theirs counted)
        self.host_bound = 0        # runs whose every launch was host-bound even at the longest spin

    def _spin_us(self, rounds=8):
        """How long the spin keeps the GPU busy: the shortest of a few back-to-back spins after a
        long one that brings the clocks up (a slower clock only makes the spin longer, and the
        guard more lenient)."""
        pairs = self._events[:rounds]
        torch.cuda._sleep(10 * self.spin_cycles)
        for start, end in pairs:
            start.record()
            torch.cuda._sleep(self.spin_cycles)
            end.record()
        torch.cuda.synchronize()
        return min(s.elapsed_time(e) for s, e in pairs) * 1000.0

    def launches(self, fn, pairs, spin):
        """One run: a launch per event pair, each after the L2 flush and a spin of `spin` cycles
        (0: none). Returns (each launch's GPU time, the host's time from the end of the spin's
        enqueue to the end of the end event's), both in microseconds."""
        host = []
        for start, end in pairs:
            self.buffer.zero_()
            if spin:
                torch.cuda._sleep(spin)
            t0 = time.perf_counter()
            start.record()
            fn()
            end.record()
            host.append((time.perf_counter() - t0) * 1e6)
        torch.cuda.synchronize()
        return [s.elapsed_time(e) * 1000.0 for s, e in pairs], host

    def _run_once(self, fn, pairs, spin):
        """(every launch's time, the times of those the spin covered) in microseconds."""
        times, host = self.launches(fn, pairs, spin)
        if not spin:
            return times, times
        # 0.9: the spin can start a little before _sleep returns to the host.
        window = 0.9 * self.spin_us * spin / self.spin_cycles
        return times, [t for t, h in zip(times, host) if h < window]

    def _run(self, fn, pairs):
        """The times in microseconds of the launches that the spin covered; when none was, the run
        is repeated with a longer spin, and after the last escalation every launch's time is
        returned (counted in host_bound)."""
        spin = self.spin_cycles
        for attempt in range(self.spin_escalations + 1):
            times, covered = self._run_once(fn, pairs, spin)
            if covered:
                self.launches_dropped += len(times) - len(covered)
                return covered
            if attempt < self.spin_escalations:
                self.reruns += 1
                spin *= SPIN_GROWTH
        self.host_bound += 1
        return times

    def host_counts(self):
        """(launches not counted, runs repeated with a longer spin, runs host-bound throughout) so far."""
        return self.launches_dropped, self.reruns, self.host_bound

    def _launch_count(self, est, budget_ms=None):
        budget = self.budget_ms if budget_ms is None else budget_ms
        return max(1, min(self.max_iters, int(budget * 1000.0 / max(min(est), 1e-3))))

    def time(self, fn, abandon_above_us=None):
        """Returns (status, min_us, median_us, iterations). status is "ok", or "abandoned" when
        the estimation launches already took more than abandon_above_us (only those count).
        iterations counts the launches whose times count (those the spin covered, _run)."""
        est = self._run(fn, self._events[:self.estimation_iters])
        if abandon_above_us is not None and min(est) > abandon_above_us:
            return "abandoned", min(est), statistics.median(est), len(est)
        n = self._launch_count(est)
        timed = self._run(fn, self._events[self.estimation_iters:self.estimation_iters + n])
        return "ok", min(min(est), min(timed)), statistics.median(timed), len(est) + len(timed)

    def samples(self, fn, budget_ms=None):
        """The timed launches' times in microseconds (after the estimation launches, which are
        not returned): as many as fit in budget_ms (default: the timer's), at most max_iters, less
        those the spin did not cover (_run)."""
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
