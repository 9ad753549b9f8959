"""Shipped learned models through the Python package: auto selection, staleness, drift."""
import pathlib

import pytest

import gemmsift
from gemmsift import Config, Problem

ROOT = pathlib.Path(__file__).resolve().parents[2]
H100 = "NVIDIA H100 80GB HBM3"
P = Problem(4096, 4096, 4096, dtype="bf16", layout="NT", device=H100)


def test_auto_picks_the_shipped_h100_model():
    m = gemmsift.Model("auto", expect_device=H100, dtype="bf16")
    info = m.info()
    assert info["kind"] == "mlp"
    assert info["device"] == H100
    assert info["name"].endswith("models/h100-80gb-hbm3_bf16.safetensors")
    assert info["triton_version"] and info["torch_version"]
    assert len(info["training"]["data"][0]["sha256"]) == 64
    sel = gemmsift.select(P, model=m, benchmark_space=5)
    assert len(sel.candidates) == 5
    assert all(c.source == "model" for c in sel.candidates)


def test_auto_without_a_shipped_model_is_analytical():
    m = gemmsift.Model("auto", expect_device="A100", dtype="fp32")
    assert m.info()["kind"] == "analytical"


def test_a_model_of_another_device_is_refused_by_policy():
    path = str(ROOT / "models" / "h100-80gb-hbm3_bf16.safetensors")
    with pytest.raises(gemmsift.GemmsiftError) as e:
        gemmsift.Model(path, mismatch_policy="refuse", expect_device="H200")
    assert "trained on NVIDIA H100 80GB HBM3 but runs on H200" in str(e.value)
    with pytest.raises(gemmsift.GemmsiftError) as e:
        gemmsift.Model(path, mismatch_policy="refuse", expect_triton="9.9.9")
    assert "Triton 9.9.9" in str(e.value)


def test_drift_reports_rank_correlation_and_error():
    m = gemmsift.Model("analytical")
    configs = [Config(16, 16, 32, 8, 2, 1), Config(32, 32, 32, 8, 3, 2), Config(64, 64, 32, 8, 3, 4),
               Config(128, 128, 64, 8, 3, 8)]
    pred = m.estimate(P, configs)
    assert len(set(pred)) == 4
    # Measured = predicted: perfect agreement.
    d = m.drift([(P, list(zip(configs, pred)))])
    assert d["problems"] == 1 and d["configs"] == 4
    assert d["spearman"] == pytest.approx(1.0)
    assert d["median_abs_log_error"] == pytest.approx(0.0, abs=1e-9)
    # Measured in the reverse order of the predictions: rank correlation -1.
    order = sorted(range(4), key=lambda i: pred[i])
    reversed_times = {order[i]: float(10 + 10 * (3 - i)) for i in range(4)}
    d = m.drift([(P, [(configs[i], reversed_times[i]) for i in range(4)])])
    assert d["spearman"] == pytest.approx(-1.0)
    with pytest.raises(gemmsift.GemmsiftError) as e:
        m.drift([(P, [(configs[0], -1.0)])])
    assert "measurements/0/measurements/0" in str(e.value)
    with pytest.raises(gemmsift.GemmsiftError) as e:
        m.drift([(P, [(Config(64, 64, 32, 8, 2, 3), 5.0)])])
    assert "measurements/0/measurements/0/config" in str(e.value)


def test_off16_analytical_ranks_strides_off_16_as_the_analytical_model():
    """off16="analytical": the shipped H200 model (arguments-kernel data) scores a problem with an
    even stride off 16 as the H200's analytical model (times one constant), others unchanged."""
    path = str(ROOT / "models" / "h200_bf16.safetensors")
    learned = gemmsift.Model(path, off16="learned")
    off16 = gemmsift.Model(path, off16="analytical")
    analytical = gemmsift.Model("analytical:device=H200")
    odd = Problem(777, 3000, 1500, dtype="bf16", layout="NT")
    configs = gemmsift.space(odd, "EXHAUSTIVE")
    got, want = off16.estimate(odd, configs), analytical.estimate(odd, configs)
    ratios = {round(g / w, 9) for g, w in zip(got, want) if w != float("inf")}
    assert len(ratios) == 1 and all(g == float("inf") for g, w in zip(got, want) if w == float("inf"))
    assert learned.estimate(odd, configs) != got
    aligned = Problem(768, 3072, 1536, dtype="bf16", layout="NT")
    configs = gemmsift.space(aligned, "EXHAUSTIVE")
    assert learned.estimate(aligned, configs) == off16.estimate(aligned, configs)
    with pytest.raises(gemmsift.GemmsiftError, match="off16 'often'"):
        gemmsift.Model(path, off16="often")


def test_off16_padded_scores_the_padded_problem():
    """off16="padded" (the default): a problem whose even strides off 16 are 8-byte aligned is
    scored as the problem padded to multiples of 16 (K = 1500 -> 1504, N = 3000 -> 3008); a stride
    that is 4-byte aligned only (K = 1506) is left as it is."""
    path = str(ROOT / "models" / "h200_bf16.safetensors")
    learned = gemmsift.Model(path, off16="learned")
    padded = gemmsift.Model(path, off16="padded")
    odd = Problem(777, 3000, 1500, dtype="bf16", layout="NT")
    configs = gemmsift.space(odd, "EXHAUSTIVE")
    got = padded.estimate(odd, configs)
    assert got == learned.estimate(Problem(777, 3008, 1504, dtype="bf16", layout="NT"), configs)
    assert got != learned.estimate(odd, configs)
    four = Problem(777, 3072, 1506, dtype="bf16", layout="NT")
    assert padded.estimate(four, configs) == learned.estimate(four, configs)
    assert gemmsift.Model(path).estimate(odd, configs) == got
    # gemmsift.OFF16_POLICIES names the library's default first; the Inductor hook uses the same tuple
    import gemmsift.inductor as hook
    assert gemmsift.OFF16_POLICIES[0] == "padded" and set(gemmsift.OFF16_POLICIES) == {"padded", "learned", "analytical"}
    assert hook.OFF16_POLICIES is gemmsift.OFF16_POLICIES
