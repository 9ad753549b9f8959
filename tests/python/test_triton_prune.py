"""gemmsift.triton.prune with stand-ins for triton.Config and torch tensors (no torch needed)."""
import warnings

import pytest

import gemmsift
import gemmsift.triton as gt


class FakeConfig:
    def __init__(self, num_stages=3, num_warps=4, **kwargs):
        self.kwargs = kwargs
        self.num_stages = num_stages
        self.num_warps = num_warps

    def __repr__(self):
        return f"FakeConfig({self.kwargs}, s{self.num_stages}, w{self.num_warps})"


class FakeTensor:
    def __init__(self, dtype, strides):
        self.dtype = dtype
        self._strides = strides

    def stride(self):
        return self._strides


def configs():
    out = []
    for bm in (16, 32, 64, 128):
        for bn in (32, 64, 128):
            for s in (2, 3, 4):
                out.append(FakeConfig(num_stages=s, num_warps=4 if bm * bn >= 4096 else 2,
                                      BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=64, GROUP_M=8))
    return out


def args(m=4096, n=4096, k=4096, b_strides=(1, 4096)):
    return {"a_ptr": FakeTensor("torch.bfloat16", (k, 1)), "b_ptr": FakeTensor("torch.bfloat16", b_strides),
            "M": m, "N": n, "K": k}


def test_keeps_the_models_top_k_in_its_order():
    cs = configs()
    p = gt.prune(k=5, model="analytical", device="NVIDIA H100 80GB HBM3")
    kept = p(cs, args())
    assert len(kept) == 5 and all(c in cs for c in kept)
    # Same as ranking with the model directly (B column-major: layout NT).
    m = gemmsift.Model("analytical")
    prob = gemmsift.Problem(4096, 4096, 4096, dtype="bf16", layout="NT", device="NVIDIA H100 80GB HBM3")
    pred = m.estimate(prob, [gt.to_config(c) for c in cs])
    expect = [cs[i] for i in sorted(range(len(cs)), key=lambda i: pred[i])[:5]]
    assert kept == expect


def test_layout_and_dtype_come_from_the_tensors():
    cs = configs()
    p_nn = gt.prune(k=3, model="analytical", device="")
    p_nt = gt.prune(k=3, model="analytical", device="")
    m = gemmsift.Model("analytical")
    for pruner, strides, layout in ((p_nn, (4096, 1), "NN"), (p_nt, (1, 4096), "NT")):
        prob = gemmsift.Problem(4096, 4096, 4096, dtype="bf16", layout=layout)
        pred = m.estimate(prob, [gt.to_config(c) for c in cs])
        assert pruner(cs, args(b_strides=strides)) == [cs[i] for i in sorted(range(len(cs)), key=lambda i: pred[i])[:3]]


def test_off16_analytical_ranks_strides_off_16_with_the_analytical_model():
    import pathlib
    h100 = str(pathlib.Path(__file__).resolve().parents[2] / "models" / "h100-80gb-hbm3_bf16.safetensors")
    cs = configs()
    dev = "NVIDIA H100 80GB HBM3"
    odd = args(m=777, n=3000, k=1500, b_strides=(1, 1500))
    kept = gt.prune(k=5, model=h100, device=dev, off16="analytical")(cs, odd)
    pred = gemmsift.Model("analytical").estimate(gemmsift.Problem(777, 3000, 1500, dtype="bf16", layout="NT", device=dev),
                                                 [gt.to_config(c) for c in cs])
    assert kept == [cs[i] for i in sorted(range(len(cs)), key=lambda i: pred[i])[:5]]
    assert gt.prune(k=5, model=h100, device=dev)(cs, odd) != kept
    assert gt.prune(k=5, model=h100, device=dev)(cs, odd) == gt.prune(k=5, model=h100, device=dev, off16="learned")(cs, odd)
    padded = gt.prune(k=5, model=h100, device=dev, off16="padded")(cs, args(m=777, n=3008, k=1504, b_strides=(1, 1504)))
    assert gt.prune(k=5, model=h100, device=dev, off16="padded")(cs, odd) == padded
    with pytest.raises(ValueError, match="off16"):
        gt.prune(off16="both")


def test_fast_is_one_and_few_configs_pass_through():
    cs = configs()
    assert len(gt.prune(k="fast", model="analytical", device="")(cs, args())) == 1
    assert gt.prune(k=50, model="analytical", device="")(cs, args()) == cs
    with pytest.raises(ValueError):
        gt.prune(k=0)


@pytest.mark.parametrize("case", ["no tile sizes", "unknown dtype", "missing argument", "missing model",
                                  "no shipped model for the device"])
def test_any_problem_warns_once_and_keeps_every_config(case):
    cs = configs()
    a = args()
    model = "analytical"
    if case == "no tile sizes":
        cs = cs + [FakeConfig(TILE=64)]
    elif case == "unknown dtype":
        a["a_ptr"] = FakeTensor("torch.int8", (4096, 1))
    elif case == "missing argument":
        del a["K"]
    elif case == "missing model":
        model = "/nonexistent/model.safetensors"
    else:
        model = "auto"
    p = gt.prune(k=2, model=model, device="NVIDIA A100-SXM4-80GB" if model == "auto" else "")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert p(cs, a) == cs
        assert p(cs, a) == cs
    msgs = [str(x.message) for x in w if "gemmsift.triton.prune" in str(x.message)]
    assert len(msgs) == 1, msgs
    assert "benchmarking every config" in msgs[0]
    if case == "no shipped model for the device":
        assert "no shipped model for NVIDIA A100-SXM4-80GB bf16" in msgs[0], msgs[0]


def test_model_of_another_device_refused_unless_model_mismatch_warn():
    import pathlib
    h100 = str(pathlib.Path(__file__).resolve().parents[2] / "models" / "h100-80gb-hbm3_bf16.safetensors")
    cs = configs()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert gt.prune(k=2, model=h100, device="NVIDIA H200")(cs, args()) == cs
    msgs = [str(x.message) for x in w if "gemmsift.triton.prune" in str(x.message)]
    assert len(msgs) == 1 and "trained on" in msgs[0], msgs
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        kept = gt.prune(k=2, model=h100, device="NVIDIA H200", model_mismatch="warn")(cs, args())
    assert not [x for x in w if "gemmsift.triton.prune" in str(x.message)]
    pred = gemmsift.Model(h100).estimate(gemmsift.Problem(4096, 4096, 4096, dtype="bf16", layout="NT",
                                                           device="NVIDIA H200"), [gt.to_config(c) for c in cs])
    assert kept == [cs[i] for i in sorted(range(len(cs)), key=lambda i: pred[i])[:2]]
    with pytest.raises(ValueError, match="model_mismatch"):
        gt.prune(model_mismatch="use")


# gemmsift.triton.do_bench: Triton's do_bench contract over gemmsift's timer (GPU side stood in for).

class FakeGpu:
    """Stands in for the GPU side of do_bench: records calls, returns fixed launch times (us)."""

    def __init__(self, monkeypatch, times_us=(30.0, 10.0, 20.0, 40.0), fail=None):
        self.calls = []
        self.budgets = []
        self.stock = []
        self.fail = fail

        def first_call():
            if isinstance(self.fail, ImportError):
                raise self.fail

            def call(fn):
                self.calls.append("first")
                fn()
            return call

        def samples(fn, budget_ms):
            self.budgets.append(budget_ms)
            if self.fail is not None:
                raise self.fail
            for _ in times_us:
                fn()
            return list(times_us)

        def stock(fn, **kwargs):
            self.stock.append(kwargs)
            return "stock"
        monkeypatch.setattr(gt, "_first_call", first_call)
        monkeypatch.setattr(gt, "_samples", samples)
        monkeypatch.setattr(gt, "_stock_do_bench", lambda: stock)


def test_do_bench_returns_tritons_shapes_in_milliseconds(monkeypatch):
    gpu = FakeGpu(monkeypatch)
    launches = []
    fn = lambda: launches.append(1)  # noqa: E731
    # The autotuner asks for (0.5, 0.2, 0.8): a list, the median first, linear interpolation.
    assert gt.do_bench(fn, quantiles=(0.5, 0.2, 0.8)) == pytest.approx([0.025, 0.016, 0.034])
    assert gt.do_bench(fn, quantiles=[0.5]) == pytest.approx(0.025)  # one quantile: a float
    assert gt.do_bench(fn) == pytest.approx(0.025)  # mean
    assert gt.do_bench(fn, return_mode="min") == pytest.approx(0.010)
    assert gt.do_bench(fn, return_mode="max") == pytest.approx(0.040)
    assert gt.do_bench(fn, return_mode="median") == pytest.approx(0.025)
    assert gt.do_bench(fn, return_mode="all") == pytest.approx([0.030, 0.010, 0.020, 0.040])
    assert gpu.calls == ["first"] * 7  # one untimed first call each
    assert len(launches) == 7 * 5  # one untimed first call, then the timer's four
    assert gpu.budgets == [25.0] * 7  # Inductor's 25 ms unless rep says otherwise
    gt.do_bench(fn, rep=100, warmup=10)
    assert gpu.budgets[-1] == 100.0
    assert gpu.stock == []


def test_do_bench_refuses_bad_arguments_before_launching(monkeypatch):
    gpu = FakeGpu(monkeypatch)
    for kwargs in ({"return_mode": "p99"}, {"quantiles": [1.5]}, {"quantiles": []}, {"quantiles": [-0.1]}):
        with pytest.raises(ValueError):
            gt.do_bench(lambda: None, **kwargs)
    assert gpu.calls == []


def test_do_bench_clears_gradients_before_each_timed_launch(monkeypatch):
    FakeGpu(monkeypatch)

    class Tensor:
        grad = "old"
    t = Tensor()
    seen = []

    def fn():
        seen.append(t.grad)
        t.grad = "accumulated"
    gt.do_bench(fn, grad_to_none=[t])
    assert seen[0] == "old"  # the first call is fn itself
    assert seen[1:] == [None] * 4


def test_do_bench_first_call_errors_reach_the_autotuner(monkeypatch):
    gpu = FakeGpu(monkeypatch)

    class OutOfResources(Exception):
        pass

    def fn():
        raise OutOfResources("shared memory")
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with pytest.raises(OutOfResources):
            gt.do_bench(fn, quantiles=(0.5, 0.2, 0.8))
    assert not [x for x in w if "gemmsift" in str(x.message)]
    assert gpu.budgets == [] and gpu.stock == []


def test_do_bench_timer_failure_warns_once_and_tritons_times(monkeypatch):
    monkeypatch.setitem(gt._bench_state, "warned", False)
    gpu = FakeGpu(monkeypatch, fail=RuntimeError("no _sleep"))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert gt.do_bench(lambda: None, quantiles=(0.5, 0.2, 0.8)) == "stock"
        assert gt.do_bench(lambda: None, rep=50, return_mode="min") == "stock"
    msgs = [str(x.message) for x in w if "gemmsift.triton.do_bench" in str(x.message)]
    assert len(msgs) == 1 and "RuntimeError: no _sleep" in msgs[0], msgs
    # Only what the caller gave reaches Triton's (its own defaults otherwise).
    assert gpu.stock == [{"grad_to_none": None, "quantiles": (0.5, 0.2, 0.8), "return_mode": "mean"},
                         {"grad_to_none": None, "quantiles": None, "return_mode": "min", "rep": 50}]


def test_do_bench_without_cuda_torch_is_tritons(monkeypatch):
    monkeypatch.setitem(gt._bench_state, "warned", False)
    gpu = FakeGpu(monkeypatch, fail=ImportError("No module named 'torch'"))
    launches = []
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert gt.do_bench(lambda: launches.append(1), quantiles=(0.5, 0.2, 0.8)) == "stock"
    assert len([x for x in w if "gemmsift.triton.do_bench" in str(x.message)]) == 1
    assert launches == [] and gpu.calls == []  # fn is Triton's to call
    assert gpu.stock == [{"grad_to_none": None, "quantiles": (0.5, 0.2, 0.8), "return_mode": "mean"}]


def test_quantile_interpolates_between_ranks():
    from gemmsift.stats import quantile
    assert quantile([4.0, 1.0, 3.0, 2.0], 0.0) == 1.0
    assert quantile([4.0, 1.0, 3.0, 2.0], 1.0) == 4.0
    assert quantile([4.0, 1.0, 3.0, 2.0], 0.5) == pytest.approx(2.5)
    assert quantile([4.0, 1.0, 3.0, 2.0], 0.2) == pytest.approx(1.6)
    assert quantile([7.0], 0.8) == 7.0
    with pytest.raises(ValueError):
        quantile([], 0.5)
    with pytest.raises(ValueError):
        quantile([1.0], 1.01)
