"""tools/recipe_means.py with a stand-in for `gemmsift eval --json`."""

import importlib.util

import pytest
from conftest import ROOT

spec = importlib.util.spec_from_file_location("recipe_means", ROOT / "tools" / "recipe_means.py")
recipe_means = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipe_means)


def report(model, q1, worst):
    """An eval --json report as the CLI writes it: two baselines, then the model."""
    def at(k, q, w, d):
        return {"k": k, "quality": q, "worst": w, "hit": 0.5, "at_least_default": d, "problems": 2}
    base = [at(k, 0.9, 0.5, 0.5) for k in (1, 3, 5)]
    return {"methods": [{"method": "DEFAULT list (all)", "at": base}, {"method": "random (20 draws)", "at": base},
                        {"method": f"lit ({model.rsplit('/', 1)[-1]})" + (", off16 padded" if "b_" in model else ""),
                         "at": [at(1, q1, 0.7, 0.5), at(3, q1 + 0.01, 0.8, 0.5), at(5, q1 + 0.02, worst, 0.75)]}]}


def test_rows_in_order_and_means_of_the_printed_rows(capsys):
    # recipe b's models are labelled as eval labels an arguments-kernel model on Inductor's kernel's data
    q = {("/d/h200_bf16_NT_test_llm.csv.gz", "/w/a_0.safetensors"): (0.9504, 0.9),
         ("/d/h200_bf16_NT_test_llm.csv.gz", "/w/a_1.safetensors"): (0.9614, 0.8),
         ("/d/h200_bf16_NT_test_llm.csv.gz", "/w/b_0.safetensors"): (0.97, 0.95),
         ("/d/h200_bf16_NT_test_llm.csv.gz", "/w/b_1.safetensors"): (0.98, 0.85)}
    seen = []

    def fake(test, model):
        seen.append((test, model))
        return report(model, *q[(test, model)])

    rows, means = recipe_means.evaluate(["/d/h200_bf16_NT_test_llm.csv.gz"],
                                        [("a", "/w/a_{seed}.safetensors"), ("b", "/w/b_{seed}.safetensors")], [0, 1], fake)
    assert seen == list(q)
    assert rows[0] == ("test_llm", "a", 0, [0.950, 0.960, 0.970, 0.9, 0.75])
    assert [r[:3] for r in rows] == [("test_llm", "a", 0), ("test_llm", "a", 1), ("test_llm", "b", 0), ("test_llm", "b", 1)]
    # the mean of the rounded rows: (0.950 + 0.961) / 2, not (0.9504 + 0.9614) / 2 = 0.9559
    assert means[0][:2] == ("test_llm", "a") and means[0][2][0] == pytest.approx(0.9555)
    assert means[1][2][3] == pytest.approx(0.9)


def test_labels_and_refusals(tmp_path):
    assert recipe_means.label("data/literal/h100-80gb-hbm3_bf16_NN_test_random.csv.gz") == "test_random"
    assert recipe_means.label("x.csv") == "x"
    # two layouts of one suite keep their layouts, or their means would be taken together
    assert recipe_means.labels(["/d/h100_bf16_NT_test_llm.csv.gz", "/d/h100_bf16_NN_test_llm.csv.gz",
                                "/d/h100_bf16_NN_test_random.csv.gz"]) == ["NT_test_llm", "NN_test_llm", "test_random"]
    with pytest.raises(SystemExit, match="same label"):
        recipe_means.labels(["/d/h100_bf16_NT_test_llm.csv.gz", "/e/h100_bf16_NT_test_llm.csv.gz"])
    with pytest.raises(SystemExit, match="expected 1"):
        recipe_means.model_row(report("/w/other.safetensors", 0.9, 0.9), "/w/a_0.safetensors")
    with pytest.raises(SystemExit, match="PATTERN"):
        recipe_means.main(["--test", "t.csv.gz", "--recipe", "a=/w/a.safetensors"])
