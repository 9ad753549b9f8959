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
