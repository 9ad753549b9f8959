"""Shows that a gemmsift table converted to torch's format makes stock torch 2.11 compile exactly
that config (issue 3, deliverable 6). Needs the gemmsift CLI (argv[1]) and writes JSON to argv[2]."""

import json
import os
import re
import subprocess
import sys
import tempfile

import torch
from torch._inductor import config as ic
from torch._inductor.lookup_table import LookupTableChoices
from torch._inductor.utils import run_and_get_code
from torch._inductor.virtualized import V


def compile_and_get_code(m, n, k, table):
    import torch._dynamo
    torch._dynamo.reset()
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
    ic.lookup_table.table = table
    V.set_choices_handler(LookupTableChoices())
    try:
        with ic.patch(max_autotune=True, max_autotune_gemm_backends="TRITON", force_disable_caches=True):
            f = torch.compile(lambda x, y: x @ y.t(), dynamic=False)
            out, code = run_and_get_code(f, a, w)
    finally:
        ic.lookup_table.table = None
    err = ((out.double() - a.double() @ w.double().t()).norm() / (a.double() @ w.double().t()).norm()).item()
    return "\n".join(code), err


def used_config(code):
    def grab(pattern):
        m = re.search(pattern, code)
        return int(m.group(1)) if m else None
    return {"BLOCK_M": grab(r"BLOCK_M\s*:\s*tl\.constexpr\s*=\s*(\d+)"),
            "BLOCK_N": grab(r"BLOCK_N\s*:\s*tl\.constexpr\s*=\s*(\d+)"),
            "BLOCK_K": grab(r"BLOCK_K\s*:\s*tl\.constexpr\s*=\s*(\d+)"),
            "GROUP_M": grab(r"GROUP_M\s*:\s*tl\.constexpr\s*=\s*(\d+)"),
            "num_stages": grab(r"num_stages=(\d+)"), "num_warps": grab(r"num_warps=(\d+)")}


def main(cli, out_path):
    props = torch.cuda.get_device_properties(0)
    dev_key = props.gcnArchName
    name = torch.cuda.get_device_name(0)
    res = {"device": name, "gcnArchName": dev_key, "torch": torch.__version__, "cases": []}
    m, n, k = 1000, 1536, 2048
    want = {"BLOCK_M": 64, "BLOCK_N": 128, "BLOCK_K": 32, "GROUP_M": 4, "num_stages": 3, "num_warps": 4}
    tmp = tempfile.mkdtemp()
    for label, device, extra in [("device-specific", name, ["--device-key", dev_key]),
                                 ("device-agnostic", "", ["--agnostic"])]:
        table = {"gemmsift_lut": 1, "entries": [{
            "problem": dict({"op": "mm", "dtype": "bf16", "layout": "NT", "m": m, "n": n, "k": k},
                            **({"device": device} if device else {})),
            "configs": [{"block_m": 64, "block_n": 128, "block_k": 32, "group_m": 4, "num_stages": 3, "num_warps": 4}]}]}
        src = os.path.join(tmp, f"{label}.json")
        dst = os.path.join(tmp, f"{label}.torch.json")
        with open(src, "w") as f:
            json.dump(table, f)
        subprocess.run([cli, "lut", "convert", src, "--to", "torch", "-o", dst] + extra, check=True)
        torch_table = json.load(open(dst))
        code, err = compile_and_get_code(m, n, k, torch_table)
        got = used_config(code)
        res["cases"].append({"case": label, "torch_key": list(torch_table)[0], "used": got, "rel_err": err,
                             "exact": got == want})
    # Control: a table for another shape must not apply.
    code, err = compile_and_get_code(m + 1, n, k, torch_table)
    got = used_config(code)
    res["cases"].append({"case": "other shape (control)", "used": got, "rel_err": err, "exact": got == want})
    with open(out_path, "w") as f:
        json.dump(res, f, indent=1)
    print(f"gcnArchName = {dev_key!r}")
    for c in res["cases"]:
        print(f"  {c['case']:>22}: used {c['used']} exact={c['exact']} rel_err={c['rel_err']:.2e}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
