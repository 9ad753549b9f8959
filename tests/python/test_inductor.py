"""gemmsift.inductor without torch: settings, environment variables, reading Inductor's objects,
choosing, recording and falling back, with stand-ins for Inductor's KernelTemplateChoice objects.
The torch side is tested on the GPU machine by tests/gpu/test_inductor_torch.py."""
import json
import os
import pathlib
import subprocess
import sys
import warnings

import pytest

import gemmsift
import gemmsift.inductor as gi

H100 = "NVIDIA H100 80GB HBM3"


class Node:
    """An Inductor IR node: size, stride, dtype."""

    def __init__(self, size, stride, dtype="torch.bfloat16"):
        self.size, self.stride, self.dtype = list(size), list(stride), dtype

    def get_size(self):
        return self.size

    def get_stride(self):
        return self.stride

    def get_dtype(self):
        return self.dtype


class Sym:
    """A symbolic size that only a hint can turn into an int."""

    def __init__(self, hint):
        self.hint = hint

    def __int__(self):
        raise TypeError("symbolic")


class Params:
    def __init__(self, kwargs):
        self.kwargs = kwargs

    def to_kwargs(self):
        return dict(self.kwargs)


class Template:
    def __init__(self, uid):
        self.uid = uid


class KTC:
    def __init__(self, template, kwargs):
        self.template, self.params = template, Params(kwargs)

    def key(self):
        return gi.config_key(self.params.kwargs)


MM, ATEN, TMA = Template("triton::mm"), Template("aten::mm"), Template("triton::mm_persistent_tma")


def ktcs(template, problem, space="EXHAUSTIVE"):
    """What Inductor's heuristic yields: one choice per config of the space."""
    out = []
    for c in gemmsift.space(problem, space):
        out.append(KTC(template, {"BLOCK_M": c.block_m, "BLOCK_N": c.block_n, "BLOCK_K": c.block_k,
                                  "GROUP_M": c.group_m, "num_stages": c.num_stages, "num_warps": c.num_warps,
                                  "EVEN_K": problem.k % c.block_k == 0, "ALLOW_TF32": False}))
    return out


def run(hook, problem, op="mm", templates=(MM, ATEN), fail_exhaustive=False, problem_fn=None):
    """One _finalize_template_configs call; returns (result, stock lists given in)."""
    stock_lists = {MM.uid: ktcs(MM, problem, "DEFAULT"), ATEN.uid: [KTC(ATEN, {})],
                   TMA.uid: [KTC(TMA, {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "num_stages": 3,
                                       "num_warps": 8})]}
    choices = {t.uid: iter(stock_lists[t.uid]) for t in templates}
    made = []

    def stock(cs):
        return [c for gen in cs.values() for c in gen]

    def exhaustive(template):
        if fail_exhaustive:
            raise RuntimeError("heuristic broke")
        return ktcs(template, problem)

    def make_choice(base, kwargs):
        made.append(kwargs)
        return KTC(base.template, {**base.params.to_kwargs(), **kwargs})

    out = hook.finalize(choices, list(templates), op, problem_fn or (lambda: problem), stock, exhaustive, make_choice)
    return out, stock_lists, made


def collecting_hook(settings):
    msgs = []
    return gi.Hook(settings, warn=msgs.append), msgs


P = gemmsift.Problem(4096, 4096, 4096, dtype="bf16", layout="NT", device=H100)


def lut_file(tmp_path, configs, problem=P):
    path = tmp_path / "table.json"
    entry = {"problem": {"op": "mm", "dtype": problem.dtype, "layout": problem.layout, "m": problem.m,
                         "n": problem.n, "k": problem.k},
             "configs": [dict(c, source="test") for c in configs]}
    path.write_text(json.dumps({"gemmsift_lut": 1, "entries": [entry]}))
    return str(path)


# -- settings -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value,want", [(5, 5), ("5", 5), (" 12 ", 12), ("default", "DEFAULT"),
                                        ("SAME", "SAME"), ("Fast", "fast")])
def test_benchmark_space_values(value, want):
    assert gi.parse_benchmark_space(value) == want


@pytest.mark.parametrize("value", [0, -3, "0", "five", "", None, True, 2.5])
def test_bad_benchmark_space_is_refused(value):
    with pytest.raises(ValueError, match="benchmark_space"):
        gi.parse_benchmark_space(value)


def test_arguments_win_over_environment_which_wins_over_defaults():
    env = {"GEMMSIFT_BENCHMARK_SPACE": "DEFAULT", "GEMMSIFT_LUT": "/t/lut.json", "GEMMSIFT_MODEL": "analytical",
           "GEMMSIFT_RECORD": ""}
    s = gi.resolve_settings(environ=env)
    assert s == gi.Settings(benchmark_space="DEFAULT", lut="/t/lut.json", model="analytical", record=None)
    s = gi.resolve_settings(benchmark_space=3, model="auto", record="/t/rec.json", environ=env)
    assert s == gi.Settings(benchmark_space=3, lut="/t/lut.json", model="auto", record="/t/rec.json")
    assert gi.resolve_settings(environ={}) == gi.Settings(benchmark_space=5, lut=None, model="auto", record=None)


def test_bad_environment_variable_is_named():
    with pytest.raises(ValueError, match="GEMMSIFT_BENCHMARK_SPACE='lots'"):
        gi.settings_from_env({"GEMMSIFT_BENCHMARK_SPACE": "lots"})


def test_install_with_a_bad_variable_warns_and_installs_nothing(monkeypatch):
    monkeypatch.setenv("GEMMSIFT_BENCHMARK_SPACE", "lots")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        gi.install()  # returns before it needs torch
    assert any("GEMMSIFT_BENCHMARK_SPACE" in str(x.message) and "not installed" in str(x.message) for x in w)
    assert gi.installed() is None


def test_uuid_follows_settings_and_table_contents(tmp_path):
    path = lut_file(tmp_path, [])
    a = gi.Settings(benchmark_space=5, lut=path)
    assert a.uuid() == gi.Settings(benchmark_space=5, lut=path).uuid()
    assert a.uuid() != gi.Settings(benchmark_space=3, lut=path).uuid()
    assert a.uuid() != gi.Settings(benchmark_space=5, lut=path, model="analytical").uuid()
    before = a.uuid()
    with open(path, "a") as f:
        f.write(" ")
    assert a.uuid() != before
    json.loads(before)  # JSON, as Inductor wants


def test_module_runs_as_a_program_without_torch():
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(__file__), "..", "..", "python"))
    r = subprocess.run([sys.executable, "-m", "gemmsift.inductor", "--help"], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "GEMMSIFT_BENCHMARK_SPACE" in r.stdout and "GEMMSIFT_RECORD" in r.stdout


# -- reading Inductor's nodes ---------------------------------------------------------------------

def test_problem_from_nodes_layouts_and_ops():
    hint = lambda e: e.hint  # noqa: E731
    x = Node((300, 512), (512, 1))
    w_t = Node((512, 1024), (1, 512))        # nn.Linear weight (1024 x 512) seen transposed
    b = Node((512, 1024), (1024, 1))
    a_t = Node((300, 512), (1, 300))
    assert gi.problem_of_nodes([x, w_t], "mm", hint) == gemmsift.Problem(300, 1024, 512, "bf16", "NT")
    assert gi.problem_of_nodes([x, b], "mm", hint).layout == "NN"
    assert gi.problem_of_nodes([a_t, b], "mm", hint).layout == "TN"
    bias = Node((1024,), (1,))
    p = gi.problem_of_nodes([bias, x, w_t], "addmm", hint, device=H100)
    assert (p.op, p.m, p.n, p.k, p.layout, p.device) == ("addmm", 300, 1024, 512, "NT", H100)
    p = gi.problem_of_nodes([Node((8, 64, 32), (2048, 32, 1)), Node((8, 32, 16), (512, 16, 1))], "bmm", hint)
    assert (p.op, p.batch, p.m, p.n, p.k) == ("bmm", 8, 64, 16, 32)
    # Symbolic sizes go through the hint (dynamic shapes).
    p = gi.problem_of_nodes([Node((Sym(77), 512), (512, 1)), w_t], "mm", hint)
    assert p.m == 77


def test_problem_none_for_what_gemmsift_has_no_space_for():
    hint = lambda e: e.hint  # noqa: E731
    a, b = Node((64, 64), (64, 1)), Node((64, 64), (64, 1))
    assert gi.problem_of_nodes([a, b], "mm_plus_mm", hint) is None
    assert gi.problem_of_nodes([Node((64, 64), (64, 1), "torch.int8"), b], "mm", hint) is None
    assert gi.problem_of_nodes([Node((64, 64), (64, 1), "torch.float16"), b], "mm", hint) is None
    assert gi.problem_of_nodes([a, Node((32, 64), (64, 1))], "mm", hint) is None  # K mismatch


def test_config_of_a_caller_description():
    d = ("ACC_TYPE='tl.float32', ALLOW_TF32=False, BLOCK_K=64, BLOCK_M=128, BLOCK_N=64, EVEN_K=True, "
         "GROUP_M=8, USE_FAST_ACCUM=False, num_stages=4, num_warps=4")
    assert gi.config_of_description(d) == gemmsift.Config(128, 64, 64, 8, 4, 4)
    assert gi.config_of_description("aten mm") is None


def test_triton_mm_names_are_told_from_aten_and_other_templates():
    assert gi.is_triton_mm_name("triton_mm_12") and gi.is_triton_mm_name("triton_bmm_3")
    for other in ("mm", "bmm", "aten_mm", "triton_tem_fused_mm_4", "triton_mm", "xtriton_mm_1", ""):
        assert not gi.is_triton_mm_name(other), other


# -- choosing ---------------------------------------------------------------------------------------

def test_top_k_from_the_exhaustive_space_in_model_order():
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=5, model="analytical"))
    out, stock, _ = run(hook, P)
    ours = [c for c in out if c.template is MM]
    want = gemmsift.select(P, model="analytical", benchmark_space=5).configs
    assert [c.key() for c in ours] == [(w.block_m, w.block_n, w.block_k, w.group_m, w.num_stages, w.num_warps)
                                       for w in want]
    assert [c for c in out if c.template is ATEN] == stock[ATEN.uid]  # ATen untouched
    assert not msgs and hook.stats["filtered"] == 1
    assert hook.decisions[-1]["space_size"] == len(gemmsift.space(P, "EXHAUSTIVE")) > 1000


def test_default_anchors_reach_the_selector_and_the_settings():
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=5, model="analytical", anchors=2))
    out, _, _ = run(hook, P)
    want = gemmsift.select(P, model="analytical", benchmark_space=5, anchors=2).configs
    assert [c.key() for c in out if c.template is MM] == [
        (w.block_m, w.block_n, w.block_k, w.group_m, w.num_stages, w.num_warps) for w in want]
    assert want != gemmsift.select(P, model="analytical", benchmark_space=5).configs
    assert not msgs
    assert gi.resolve_settings(environ={}).anchors == 0
    assert gi.resolve_settings(environ={"GEMMSIFT_ANCHORS": "2"}).anchors == 2
    assert gi.resolve_settings(anchors=1, environ={"GEMMSIFT_ANCHORS": "2"}).anchors == 1
    for bad in ("-1", "two"):
        with pytest.raises(ValueError, match="GEMMSIFT_ANCHORS"):
            gi.settings_from_env({"GEMMSIFT_ANCHORS": bad})
    for bad in (-1, True, 1.5):
        with pytest.raises(ValueError, match="anchors"):
            gi.resolve_settings(anchors=bad, environ={})
    assert gi.Settings(anchors=2).uuid() != gi.Settings().uuid()


def test_off16_reaches_the_model_and_the_settings():
    """off16="analytical": the shipped H200 model ranks a problem with an even stride off 16 as the
    analytical model does; the setting comes from the argument, then GEMMSIFT_OFF16."""
    path = str(pathlib.Path(__file__).resolve().parents[2] / "models" / "h200_bf16.safetensors")
    odd = gemmsift.Problem(777, 3000, 1500, dtype="bf16", layout="NT")
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=5, model=path, model_mismatch="warn", off16="analytical"))
    out, _, _ = run(hook, odd)
    want = gemmsift.select(odd, model="analytical:device=H200", benchmark_space=5).configs
    assert [c.key() for c in out if c.template is MM] == [
        (w.block_m, w.block_n, w.block_k, w.group_m, w.num_stages, w.num_warps) for w in want]
    learned = gemmsift.select(odd, model=gemmsift.Model(path, off16="learned"), benchmark_space=5).configs
    assert learned != want
    # By default ("padded") the hook ranks it as the problem padded to 777x3008x1504.
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=5, model=path, model_mismatch="warn"))
    out, _, _ = run(hook, odd)
    padded = gemmsift.select(gemmsift.Problem(777, 3008, 1504, dtype="bf16", layout="NT"),
                             model=gemmsift.Model(path, off16="learned"), benchmark_space=5).configs
    assert padded != learned
    assert [c.key() for c in out if c.template is MM] == [
        (w.block_m, w.block_n, w.block_k, w.group_m, w.num_stages, w.num_warps) for w in padded]
    assert gi.resolve_settings(environ={}).off16 == "padded"
    assert gi.Settings().off16 == "padded"
    assert gi.resolve_settings(environ={"GEMMSIFT_OFF16": "learned"}).off16 == "learned"
    assert gi.resolve_settings(environ={"GEMMSIFT_OFF16": "Analytical"}).off16 == "analytical"
    assert gi.resolve_settings(environ={"GEMMSIFT_OFF16": "padded"}).off16 == "padded"
    assert gi.resolve_settings(off16="learned", environ={"GEMMSIFT_OFF16": "analytical"}).off16 == "learned"
    with pytest.raises(ValueError, match="GEMMSIFT_OFF16"):
        gi.settings_from_env({"GEMMSIFT_OFF16": "sometimes"})
    with pytest.raises(ValueError, match="off16"):
        gi.resolve_settings(off16=1, environ={})
    assert gi.Settings(off16="analytical").uuid() != gi.Settings().uuid()


def test_default_and_fast_sizes_and_other_templates_kept():
    hook, _ = collecting_hook(gi.Settings(benchmark_space="DEFAULT", model="analytical"))
    out, stock, _ = run(hook, P, templates=(MM, TMA, ATEN))
    sel = gemmsift.select(P, model="analytical", benchmark_space="DEFAULT")
    assert len([c for c in out if c.template is MM]) == sel.default_count == len(gemmsift.space(P, "DEFAULT"))
    assert [c for c in out if c.template is TMA] == stock[TMA.uid]
    hook, _ = collecting_hook(gi.Settings(benchmark_space="fast", model="analytical"))
    out, _, _ = run(hook, P)
    assert len([c for c in out if c.template is MM]) == 1


def test_table_hits_always_get_in_even_outside_the_space(tmp_path):
    p = gemmsift.Problem(1000, 4096, 4000, dtype="bf16", layout="NT", device=H100)
    inside = {"block_m": 64, "block_n": 64, "block_k": 32, "group_m": 8, "num_stages": 2, "num_warps": 4}
    outside = {"block_m": 128, "block_n": 128, "block_k": 64, "group_m": 4, "num_stages": 3, "num_warps": 8}
    path = lut_file(tmp_path, [inside, outside], problem=p)
    assert not gemmsift.LookupTable(path).warnings
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=1, model="analytical", lut=path))
    out, _, made = run(hook, p)
    keys = [c.key() for c in out if c.template is MM]
    assert keys[:2] == [(64, 64, 32, 8, 2, 4), (128, 128, 64, 4, 3, 8)] and len(keys) == 3
    # group_m 4 is not in the space: built on a choice of the same BLOCK_K, so EVEN_K stays right.
    assert made == [{"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 4, "num_stages": 3, "num_warps": 8}]
    built = [c for c in out if c.key() == (128, 128, 64, 4, 3, 8)][0]
    assert built.params.kwargs["EVEN_K"] is False  # 4000 % 64 != 0
    assert hook.stats["lut_hits"] == 2 and not msgs


def test_same_keeps_inductors_list_and_adds_the_hits(tmp_path):
    hit = {"block_m": 32, "block_n": 256, "block_k": 64, "group_m": 8, "num_stages": 4, "num_warps": 8}
    hook, _ = collecting_hook(gi.Settings(benchmark_space="SAME", model="/no/model/needed", lut=lut_file(tmp_path, [hit])))
    out, stock, _ = run(hook, P)
    ours = [c for c in out if c.template is MM]
    assert ours[0].key() == (32, 256, 64, 8, 4, 8)
    assert ours[1:] == [c for c in stock[MM.uid] if c.key() != ours[0].key()]


@pytest.mark.parametrize("case", ["corrupted table", "missing model", "heuristic raises", "problem raises"])
def test_any_problem_warns_once_and_gives_stock_configs(tmp_path, case):
    settings = gi.Settings(benchmark_space=5, model="analytical")
    kw = {}
    if case == "corrupted table":
        bad = tmp_path / "bad.json"
        bad.write_text('{"gemmsift_lut": 1, "entries": [ {"problem": ')
        settings = gi.Settings(benchmark_space=5, model="analytical", lut=str(bad))
    elif case == "missing model":
        settings = gi.Settings(benchmark_space=5, model=str(tmp_path / "gone.safetensors"))
    elif case == "heuristic raises":
        kw["fail_exhaustive"] = True
    else:
        kw["problem_fn"] = lambda: 1 / 0
    hook, msgs = collecting_hook(settings)
    for _ in range(3):
        out, stock, _ = run(hook, P, **kw)
        assert out == stock[MM.uid] + stock[ATEN.uid]  # every stock choice, in order
    assert len(msgs) == 1, msgs
    assert "stock configs" in msgs[0]
    if case == "corrupted table":
        assert "bad.json" in msgs[0]
    if case == "missing model":
        assert "gone.safetensors" in msgs[0]
    assert hook.stats["fallbacks"] == 3


def test_check_reports_problems_up_front(tmp_path):
    hook, msgs = collecting_hook(gi.Settings(model=str(tmp_path / "gone.safetensors"), lut=str(tmp_path / "no.json")))
    problems = hook.check()
    assert len(problems) == 2 and len(msgs) == 2
    assert any("no.json" in p for p in problems) and any("gone.safetensors" in p for p in problems)
    out, stock, _ = run(hook, P)  # the same problems at compile time: no second warning
    assert out == stock[MM.uid] + stock[ATEN.uid] and len(msgs) == 2
    hook, msgs = collecting_hook(gi.Settings(model=str(tmp_path / "gone.safetensors")))
    hook.check()
    run(hook, P)
    assert len(msgs) == 1, msgs


def test_config_value_is_small_copyable_and_follows_settings():
    import copy
    import pickle
    a = gi._ChoicesFactory(gi.Settings(benchmark_space=5).uuid())
    assert copy.deepcopy(a) == a and pickle.loads(pickle.dumps(a)) == a
    assert a != gi._ChoicesFactory(gi.Settings(benchmark_space=3).uuid())


def test_ops_and_templates_it_does_not_filter_pass_through_silently():
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=5, model="analytical"))
    out, stock, _ = run(hook, P, op="mm_plus_mm")
    assert out == stock[MM.uid] + stock[ATEN.uid]
    out, stock, _ = run(hook, P, templates=(ATEN,))
    assert out == stock[ATEN.uid]
    out, stock, _ = run(hook, P, problem_fn=lambda: None)  # int8, mixed dtypes, ...
    assert out == stock[MM.uid] + stock[ATEN.uid]
    assert not msgs and hook.stats["filtered"] == 0


# -- recording ----------------------------------------------------------------------------------------

class Caller:
    def __init__(self, name, description=""):
        self.name, self.description = name, description


def test_record_writes_the_fastest_triton_config(tmp_path):
    rec = tmp_path / "sub" / "rec.json"
    rec.parent.mkdir()
    hook, msgs = collecting_hook(gi.Settings(record=str(rec)))
    timings = {Caller("mm", "cuBLAS"): 0.010,
               Caller("triton_mm_1", "BLOCK_K=32, BLOCK_M=64, BLOCK_N=64, GROUP_M=8, num_stages=3, num_warps=4"): 0.030,
               Caller("triton_mm_2", "BLOCK_K=64, BLOCK_M=128, BLOCK_N=128, GROUP_M=8, num_stages=4, num_warps=8"): 0.020,
               Caller("triton_mm_3", "BLOCK_K=64, BLOCK_M=16, BLOCK_N=16, GROUP_M=8, num_stages=1, num_warps=2"): float("inf")}
    assert hook.record_winner(timings, "mm", lambda: P)
    entry = gemmsift.LookupTable(str(rec)).lookup(P)
    assert entry is not None
    c = entry["configs"][0]
    assert (c["block_m"], c["block_n"], c["block_k"], c["num_stages"], c["num_warps"]) == (128, 128, 64, 4, 8)
    assert abs(c["measured_us"] - 20.0) < 1e-9 and c["source"] == "gemmsift.inductor record"
    assert not msgs and hook.stats["recorded"] == 1
    # Nothing to record without a Triton mm choice.
    assert not hook.record_winner({Caller("mm", "cuBLAS"): 0.01}, "mm", lambda: P)


def test_record_failure_warns_once_and_never_raises(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    hook, msgs = collecting_hook(gi.Settings(record=str(blocker / "rec.json")))  # parent is a file
    t = {Caller("triton_mm_1", "BLOCK_K=32, BLOCK_M=64, BLOCK_N=64, GROUP_M=8, num_stages=3, num_warps=4"): 0.03}
    assert not hook.record_winner(t, "mm", lambda: P)
    assert not hook.record_winner(t, "mm", lambda: P)
    assert len(msgs) == 1 and "cannot record" in msgs[0] and hook.stats["record_failures"] == 2


# -- models that do not fit: stock Inductor, not a poor ranking -------------------------------------

def test_auto_without_a_shipped_model_for_the_device_keeps_stock(monkeypatch):
    a100 = gemmsift.Problem(4096, 4096, 4096, dtype="bf16", layout="NT", device="NVIDIA A100-SXM4-80GB")
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=5, model="auto"))
    out, stock, _ = run(hook, a100)
    assert out == stock[MM.uid] + stock[ATEN.uid]
    assert len(msgs) == 1 and "no shipped model for NVIDIA A100-SXM4-80GB bf16" in msgs[0], msgs
    assert "model='analytical'" in msgs[0]
    # The shipped H100 model is used on an H100 (and the analytical model when asked for).
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=5, model="auto"))
    run(hook, P)
    assert not msgs and hook.stats["filtered"] == 1
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=5, model="analytical"))
    run(hook, a100)
    assert not msgs and hook.stats["filtered"] == 1


def test_model_trained_with_another_triton_keeps_stock(monkeypatch):
    monkeypatch.setattr(gi, "_triton_version", lambda: "9.9.9")
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=5, model="auto"))
    out, stock, _ = run(hook, P)
    assert out == stock[MM.uid] + stock[ATEN.uid]
    assert len(msgs) == 1 and "Triton 3.6.0 but Triton 9.9.9 runs" in msgs[0], msgs
    problems = gi.Hook(gi.Settings(model="auto"), warn=lambda m: None).check(H100)
    assert len(problems) == 1 and "9.9.9" in problems[0]


# -- benchmark passes -------------------------------------------------------------------------

def passes_bench(*passes):
    """Inductor's benchmarking, one dict of times per call in turn; records each call's list."""
    calls = []

    def bench(choices):
        calls.append(list(choices))
        result = passes[len(calls) - 1]
        if isinstance(result, Exception):
            raise result
        return {c: result[c.name] for c in choices}
    return bench, calls


def test_benchmark_passes_from_arguments_and_environment():
    assert gi.resolve_settings(environ={}).benchmark_passes == 1
    assert gi.resolve_settings(environ={"GEMMSIFT_BENCHMARK_PASSES": "2"}).benchmark_passes == 2
    assert gi.resolve_settings(benchmark_passes=3, environ={"GEMMSIFT_BENCHMARK_PASSES": "2"}).benchmark_passes == 3
    for bad in ("0", "two", "-1"):
        with pytest.raises(ValueError, match="GEMMSIFT_BENCHMARK_PASSES"):
            gi.settings_from_env({"GEMMSIFT_BENCHMARK_PASSES": bad})
    for bad in (0, True, 1.5):
        with pytest.raises(ValueError, match="benchmark_passes"):
            gi.resolve_settings(benchmark_passes=bad, environ={})
    assert gi.Settings(benchmark_passes=2).uuid() != gi.Settings().uuid()


def test_two_passes_keep_each_choices_faster_time():
    hook, msgs = collecting_hook(gi.Settings(benchmark_passes=2))
    aten, t1, t2 = Caller("mm"), Caller("triton_mm_1"), Caller("triton_mm_2")
    # First pass: ATen timed slow (31.6 us against 24.0 in the second), so triton_mm_1 would win.
    bench, calls = passes_bench({"mm": 0.0316, "triton_mm_1": 0.0281, "triton_mm_2": 0.0300},
                                {"mm": 0.0240, "triton_mm_1": 0.0290, "triton_mm_2": 0.0298})
    got = hook.benchmark([aten, t1, t2], bench)
    assert got == {aten: 0.0240, t1: 0.0281, t2: 0.0298}
    assert min(got, key=got.get) is aten
    assert len(calls) == 2 and hook.stats["rebenchmarked"] == 1 and msgs == []


def test_one_pass_lists_without_triton_mm_and_failed_passes_keep_inductors_times():
    aten, other, t1 = Caller("mm"), Caller("triton_tem_fused_0"), Caller("triton_mm_1")
    first = {"mm": 2.0, "triton_tem_fused_0": 1.0, "triton_mm_1": 3.0}
    hook, _ = collecting_hook(gi.Settings())  # 1 pass: Inductor's own, once
    bench, calls = passes_bench(first)
    assert hook.benchmark([aten, t1], bench) == {aten: 2.0, t1: 3.0} and len(calls) == 1
    hook, _ = collecting_hook(gi.Settings(benchmark_passes=3))
    bench, calls = passes_bench(first)  # no Triton mm choice: not ours to time again
    assert hook.benchmark([aten, other], bench) == {aten: 2.0, other: 1.0} and len(calls) == 1
    hook, msgs = collecting_hook(gi.Settings(benchmark_passes=3))
    bench, calls = passes_bench(first, {"mm": 1.0, "triton_mm_1": 1.0}, RuntimeError("device lost"))
    assert hook.benchmark([aten, t1], bench) == {aten: 2.0, t1: 3.0}  # the first pass's times stand
    assert len(msgs) == 1 and "device lost" in msgs[0] and hook.stats["rebenchmarked"] == 0
    hook.benchmark([aten, t1], passes_bench(first, RuntimeError("again"))[0])
    assert len(msgs) == 1  # once


def test_the_benchmarking_patch_routes_through_the_hook_and_comes_off(monkeypatch):
    class AlgorithmSelectorCache:  # stand-in for torch._inductor.select_algorithm's
        @classmethod
        def benchmark_choices(cls, choices, autotune_args, is_collective=False):
            cls.seen.append((autotune_args, is_collective))
            return {c: next(cls.times) for c in choices}
    AlgorithmSelectorCache.seen = []
    AlgorithmSelectorCache.times = iter([5.0, 4.0, 3.0, 6.0])

    class SelectAlgorithm:
        pass
    module = SelectAlgorithm()
    module.AlgorithmSelectorCache = AlgorithmSelectorCache
    original = AlgorithmSelectorCache.__dict__["benchmark_choices"]
    hook = gi.Hook(gi.Settings(benchmark_passes=2), warn=lambda m: None)
    monkeypatch.setitem(gi._state, "hook", hook)
    assert gi._patch_benchmarking(module)
    try:
        a, b = Caller("mm"), Caller("triton_mm_0")
        assert AlgorithmSelectorCache.benchmark_choices([a, b], "args", is_collective=False) == {a: 3.0, b: 4.0}
        assert AlgorithmSelectorCache.seen == [("args", False), ("args", False)]
    finally:
        gi._unpatch_benchmarking()
    assert AlgorithmSelectorCache.__dict__["benchmark_choices"] is original and gi._state["bench"] is None


def test_a_torch_without_the_classmethod_is_not_patched():
    class Module:
        class AlgorithmSelectorCache:
            @staticmethod
            def benchmark_choices(choices):
                return {}
    assert not gi._patch_benchmarking(Module()) and gi._state["bench"] is None
    assert not gi._patch_benchmarking(object())


# -- gemmsift's timer -------------------------------------------------------------------------

def test_benchmark_timer_from_arguments_and_environment():
    assert gi.resolve_settings(environ={}).benchmark_timer == "gemmsift"
    assert gi.resolve_settings(environ={"GEMMSIFT_BENCHMARK_TIMER": " Inductor "}).benchmark_timer == "inductor"
    assert gi.resolve_settings(benchmark_timer="gemmsift", environ={"GEMMSIFT_BENCHMARK_TIMER": "inductor"}).benchmark_timer == "gemmsift"
    with pytest.raises(ValueError, match="GEMMSIFT_BENCHMARK_TIMER='cupti'"):
        gi.settings_from_env({"GEMMSIFT_BENCHMARK_TIMER": "cupti"})
    for bad in ("", "spin", 1, None):
        with pytest.raises(ValueError, match="benchmark_timer must be one of inductor, gemmsift"):
            gi.parse_benchmark_timer(bad)
    assert gi.Settings(benchmark_timer="inductor").uuid() != gi.Settings().uuid()


class Benchmarker:  # stand-in for torch._inductor.runtime.benchmarking's benchmarker
    def benchmark_gpu(self, fn, return_mode="min", **kwargs):
        fn()
        return {"min": 9.0, "all": [9.0, 9.5]}[return_mode]


def test_swapped_timer_times_with_ours_and_puts_the_benchmarker_back():
    hook, msgs = collecting_hook(gi.Settings(benchmark_timer="gemmsift"))
    plain, shadowed = Benchmarker(), Benchmarker()
    own = lambda fn, **kw: 7.0  # noqa: E731  an instance attribute already there stays
    shadowed.benchmark_gpu = own
    launched = []
    with gi.swapped_timer(hook, [plain, shadowed], lambda fn: (fn(), 0.25)[1]):
        assert plain.benchmark_gpu(lambda: launched.append(1)) == 0.25
        assert shadowed.benchmark_gpu(lambda: launched.append(2)) == 0.25
        assert plain.benchmark_gpu(lambda: launched.append(3), return_mode="all") == [9.0, 9.5]  # Inductor's
    assert launched == [1, 2, 3] and hook.stats["gemmsift_timed"] == 2 and msgs == []
    assert "benchmark_gpu" not in vars(plain) and plain.benchmark_gpu(lambda: None) == 9.0
    assert shadowed.benchmark_gpu is own


def test_a_failing_timer_warns_once_and_inductor_times():
    hook, msgs = collecting_hook(gi.Settings(benchmark_timer="gemmsift"))
    b = Benchmarker()

    def broken(fn):
        raise RuntimeError("no CUDA")
    with gi.swapped_timer(hook, [b], broken):
        assert b.benchmark_gpu(lambda: None) == 9.0
        assert b.benchmark_gpu(lambda: None) == 9.0
    assert len(msgs) == 1 and "no CUDA" in msgs[0] and hook.stats["gemmsift_timed"] == 0
    assert "benchmark_gpu" not in vars(b)


def test_the_benchmarking_patch_times_triton_mm_lists_with_gemmsifts_timer(monkeypatch):
    b = Benchmarker()

    class AlgorithmSelectorCache:
        @classmethod
        def benchmark_choices(cls, choices, autotune_args):
            return {c: b.benchmark_gpu(lambda: None) for c in choices}

    class Module:
        pass
    module = Module()
    module.AlgorithmSelectorCache = AlgorithmSelectorCache
    hook = gi.Hook(gi.Settings(benchmark_timer="gemmsift"), warn=lambda m: None)
    monkeypatch.setitem(gi._state, "hook", hook)
    monkeypatch.setattr(gi, "_benchmarkers", lambda: [b])
    monkeypatch.setattr(gi, "_gemmsift_timed", lambda fn: 0.5)
    monkeypatch.setattr(gi, "_first_call", lambda fn: fn())
    monkeypatch.setattr(gi, "_ban_check", lambda: None)
    assert gi._patch_benchmarking(module)
    try:
        a, t, other = Caller("mm"), Caller("triton_mm_0"), Caller("triton_tem_fused_1")
        # a list with a Triton mm choice: every choice (ATen too) timed by gemmsift's timer
        assert AlgorithmSelectorCache.benchmark_choices([a, t], "args") == {a: 0.5, t: 0.5}
        # another list: Inductor's own timer
        assert AlgorithmSelectorCache.benchmark_choices([a, other], "args") == {a: 9.0, other: 9.0}
        assert hook.stats["gemmsift_timed"] == 2 and "benchmark_gpu" not in vars(b)
    finally:
        gi._unpatch_benchmarking()


def test_a_choice_that_cannot_launch_fails_as_in_inductor_and_bans_hold():
    hook, msgs = collecting_hook(gi.Settings(benchmark_timer="gemmsift"))
    b = Benchmarker()
    timed = []

    def first(fn):
        fn()

    def cannot_launch():
        raise RuntimeError("out of resource: shared memory")
    with gi.swapped_timer(hook, [b], lambda fn: timed.append(fn) or 0.1, first=first):
        with pytest.raises(RuntimeError, match="out of resource"):  # Inductor's to handle (inf)
            b.benchmark_gpu(cannot_launch)
        assert b.benchmark_gpu(lambda: None) == 0.1
    assert msgs == [] and len(timed) == 1 and hook.stats["gemmsift_timed"] == 1

    def ban():
        raise RuntimeError("benchmarking is banned in deterministic mode")
    with gi.swapped_timer(hook, [b], lambda fn: 0.1, ban=ban):
        with pytest.raises(RuntimeError, match="banned"):
            b.benchmark_gpu(lambda: None)
        assert b.benchmark_gpu(lambda: None, is_vetted_benchmarking=True) == 0.1
    assert msgs == []


def test_overlapping_swaps_share_one_and_the_last_to_close_undoes_it():
    hook, _ = collecting_hook(gi.Settings(benchmark_timer="gemmsift"))
    b = Benchmarker()
    a_ctx = gi.swapped_timer(hook, [b], lambda fn: 0.1)
    b_ctx = gi.swapped_timer(hook, [b], lambda fn: 0.2)
    a_ctx.__enter__()
    b_ctx.__enter__()  # another thread's benchmarking while the first is open: the first swap serves
    assert b.benchmark_gpu(lambda: None) == 0.1
    a_ctx.__exit__(None, None, None)  # the first closes: the swap stays for the other
    assert b.benchmark_gpu(lambda: None) == 0.1
    b_ctx.__exit__(None, None, None)
    assert "benchmark_gpu" not in vars(b) and b.benchmark_gpu(lambda: None) == 9.0
    assert gi._swap["depth"] == 0
    with pytest.raises(KeyError):  # benchmarking that raises still puts the benchmarker back
        with gi.swapped_timer(hook, [b], lambda fn: 0.1):
            raise KeyError("choice")
    assert "benchmark_gpu" not in vars(b) and gi._swap["depth"] == 0


# -- model_mismatch: a model of another GPU refused (default) or used with a warning -----------------

H100_MODEL = str(pathlib.Path(__file__).resolve().parents[2] / "models" / "h100-80gb-hbm3_bf16.safetensors")


def test_model_mismatch_from_arguments_and_environment():
    assert gi.resolve_settings(environ={}).model_mismatch == "refuse"
    assert gi.resolve_settings(environ={"GEMMSIFT_MODEL_MISMATCH": " WARN "}).model_mismatch == "warn"
    assert gi.resolve_settings(model_mismatch="refuse", environ={"GEMMSIFT_MODEL_MISMATCH": "warn"}).model_mismatch == "refuse"
    with pytest.raises(ValueError, match="GEMMSIFT_MODEL_MISMATCH='use'"):
        gi.resolve_settings(environ={"GEMMSIFT_MODEL_MISMATCH": "use"})
    for bad in ("use", 1, None, ""):
        with pytest.raises(ValueError, match="model_mismatch must be one of refuse, warn"):
            gi.parse_model_mismatch(bad)
    assert gi.Settings(model_mismatch="warn").uuid() != gi.Settings().uuid()


def test_model_of_another_gpu_refused_unless_model_mismatch_warn():
    h200 = gemmsift.Problem(4096, 4096, 4096, dtype="bf16", layout="NT", device="NVIDIA H200")
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=5, model=H100_MODEL))
    out, stock, _ = run(hook, h200)
    assert out == stock[MM.uid] + stock[ATEN.uid]
    assert len(msgs) == 1 and "trained on" in msgs[0] and "model_mismatch='warn' uses it anyway" in msgs[0], msgs
    hook, msgs = collecting_hook(gi.Settings(benchmark_space=5, model=H100_MODEL, model_mismatch="warn"))
    out, stock, _ = run(hook, h200)
    assert not msgs and hook.stats["filtered"] == 1
    # the H100 model's top 5 of EXHAUSTIVE for the H200 problem, ATen untouched
    want = gemmsift.select(h200, model=gemmsift.Model(H100_MODEL), benchmark_space=5).configs
    assert [c.key() for c in out if c.template is MM] == [
        (w.block_m, w.block_n, w.block_k, w.group_m, w.num_stages, w.num_warps) for w in want]
    assert [c for c in out if c.template is ATEN] == stock[ATEN.uid]


def test_install_raises_for_a_bad_argument_even_with_a_bad_variable(monkeypatch):
    monkeypatch.setenv("GEMMSIFT_BENCHMARK_SPACE", "lots")
    with pytest.raises(ValueError, match="model_mismatch"):
        gi.install(model_mismatch="use")
    # a good argument with a bad variable: the variable warns and nothing is installed
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        gi.install(benchmark_timer="gemmsift")  # returns before it needs torch
    assert any("GEMMSIFT_BENCHMARK_SPACE" in str(x.message) and "not installed" in str(x.message) for x in w)
    assert gi.installed() is None
