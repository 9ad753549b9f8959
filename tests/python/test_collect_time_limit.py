"""The collector's --time-limit bounds the timing, not only the start of a problem: a problem still
being timed at the deadline is dropped (left for a rerun), and the part file keeps whole problems
only. harness.run_gpu runs here with stand-ins for torch, the Triton kernel and the GPU timer
(no GPU), on a clock that advances one second a timed config."""

import importlib
import sys
import types

import gemmsift
import gemmsift.collect
from gemmsift.collect import dataset


class FakeTensor:
    def double(self):
        return self

    def __matmul__(self, other):
        return self

    def __sub__(self, other):
        return self

    def norm(self):
        return self

    def item(self):
        return 0.0

    def fill_(self, value):
        return self


class Clock:
    def __init__(self):
        self.now = 1000.0

    def time(self):
        return self.now


def load_harness(monkeypatch, clock, launches):
    torch = types.ModuleType("torch")
    torch.cuda = types.SimpleNamespace(set_device=lambda i: None, get_device_name=lambda i=0: "Fake GPU",
                                       synchronize=lambda: None)
    kernel = types.ModuleType("gemmsift.collect.kernel")
    kernel.operands = lambda m, n, k, dtype, layout, seed=0: (FakeTensor(), FakeTensor(), FakeTensor())
    kernel.specialization_key = lambda m, n, k, dtype, layout, cfg, literal: (m, n, k, dtype, layout, cfg, literal)
    kernel.launch = lambda a, b, c, cfg, literal_sizes=False: launches.append(cfg)
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "gemmsift.collect.kernel", kernel)
    for name in ("gemmsift.collect.harness", "gemmsift.collect.timing"):
        monkeypatch.delitem(sys.modules, name, raising=False)
        monkeypatch.delattr(gemmsift.collect, name.rsplit(".", 1)[1], raising=False)
    harness = importlib.import_module("gemmsift.collect.harness")

    class Timer:
        def __init__(self, **kw):
            pass

        def host_counts(self):
            return 0, 0, 0

        def time(self, fn, abandon_above_us=None):
            clock.now += 1.0
            return "ok", 5.0, 5.5, 10

    monkeypatch.setattr(harness, "Timer", Timer)
    monkeypatch.setattr(harness, "time", clock)
    return harness


def args_for(deadline, sample):
    return types.SimpleNamespace(estimation_iters=2, max_iters=10, budget_ms=5.0, deadline=deadline,
                                 sample=sample, seed=0, literal_sizes=True, max_problem_seconds=120.0,
                                 abandon_factor=4.0, abandon_retries=1)


PROBLEMS = [gemmsift.Problem(256, 512, 128, dtype="bf16", layout="NN"),
            gemmsift.Problem(512, 512, 256, dtype="bf16", layout="NN")]


def compiled(harness, problems, args):
    """The compile phase's {variant key: error} with every variant compiled without error."""
    return {repr(harness.kernel.specialization_key(p.m, p.n, p.k, p.dtype, p.layout, c, args.literal_sizes)): ""
            for p in problems for c in harness.select_configs(p, args.sample, args.seed)}


def test_a_problem_in_flight_at_the_deadline_is_dropped(monkeypatch, tmp_path):
    clock, launches, lines = Clock(), [], []
    harness = load_harness(monkeypatch, clock, launches)
    problems = PROBLEMS
    args = args_for(deadline=0, sample=10)  # the DEFAULT list alone, about 20 configs a problem
    first, second = (len(harness.select_configs(p, args.sample, args.seed)) for p in problems)
    args.deadline = clock.now + first + second / 2  # one second a config: mid-way through the second
    part = str(tmp_path / "part.csv")
    harness.run_gpu(args, 0, compiled(harness, problems, args), problems, part, lines.append)

    assert dataset.done_problems(part) == {dataset.key_of(problems[0])}
    assert len(dataset.read_rows(part)) == first
    assert any("time limit reached while timing 512x512x256" in line and "1 problems left" in line
               for line in lines), lines
    assert clock.now < args.deadline + 1.0 + 1e-9  # stopped within one config of the deadline
    assert len(launches) > first  # the second problem was started (a launch a config), then dropped


def test_without_a_deadline_every_problem_is_timed(monkeypatch, tmp_path):
    clock, launches, lines = Clock(), [], []
    harness = load_harness(monkeypatch, clock, launches)
    problems = PROBLEMS
    args = args_for(deadline=0, sample=10)
    part = str(tmp_path / "part.csv")
    harness.run_gpu(args, 0, compiled(harness, problems, args), problems, part, lines.append)
    assert dataset.done_problems(part) == {dataset.key_of(p) for p in problems}
    assert not any("time limit" in line for line in lines)
