"""bench/e2e_picks.py: Inductor's AUTOTUNE tables looked up in EXHAUSTIVE measurements."""
import gzip
import importlib.util
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "e2e_picks.py"
spec = importlib.util.spec_from_file_location("e2e_picks", SCRIPT)
picks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(picks)

HEADER = ("device,op,dtype,layout,m,n,k,batch,template,block_m,block_n,block_k,group_m,num_stages,"
          "num_warps,status,time_us_min,time_us_median,iterations,note\n")


def cfg(bm, bn, bk, s, w):
    return (f"ACC_TYPE='tl.float32', ALLOW_TF32=False, BLOCK_K={bk}, BLOCK_M={bm}, BLOCK_N={bn}, EVEN_K=True, "
            f"GROUP_M=8, USE_FAST_ACCUM=False, num_stages={s}, num_warps={w}")


def table(m, k, n, strides, entries):
    out = [f"AUTOTUNE mm({m}x{k}, {k}x{n})", f"strides: {strides}", "dtypes: torch.bfloat16, torch.bfloat16"]
    out += [f"  {name} {us / 1000:.4f} ms 100.0% {desc}" for name, us, desc in entries]
    return out + ["SingleProcess AUTOTUNE benchmarking takes 0.1 seconds"]


def write_log(tmp_path, lines):
    """A job log of these lines."""
    log = tmp_path / "job.log"
    log.write_text("\n".join(lines) + "\n")
    return log


def run_picks(log, data, *more):
    """bench/e2e_picks.py LOG --data DATA [more...], as a user runs it."""
    return subprocess.run([sys.executable, str(SCRIPT), str(log), "--data", str(data), *map(str, more)],
                          capture_output=True, text=True)


def write_data(path):
    rows = [("NT", 64, 128, 32, 16, 16, 64, 3, 4, "ok", 10.0), ("NT", 64, 128, 32, 32, 32, 32, 4, 4, "ok", 8.0),
            ("NT", 64, 128, 32, 64, 64, 32, 4, 4, "ok", 5.0), ("NN", 64, 128, 32, 16, 16, 64, 3, 4, "ok", 4.0),
            ("NN", 64, 128, 32, 32, 32, 32, 4, 4, "compile_error", 1.0)]
    with gzip.open(path, "wt") as f:
        f.write(HEADER)
        for lay, m, n, k, bm, bn, bk, s, w, st, t in rows:
            f.write(f"H100,mm,bf16,{lay},{m},{n},{k},1,triton_mm,{bm},{bn},{bk},8,{s},{w},{st},{t},{t},10,\n")


def test_sections_layouts_and_ratios(tmp_path):
    data = tmp_path / "d.csv.gz"
    write_data(data)
    lines = table(256, 256, 256, "[256, 1], [256, 1]", [("mm", 5.0, "")])  # worker 1's warm-up
    # NT (B is a transposed weight): picked 16x16x64 (10 us), also given 32x32x32 (8 us); best 5 us
    lines += table(64, 32, 128, "[32, 1], [1, 32]", [("triton_mm_1", 9.0, cfg(16, 16, 64, 3, 4)),
                                                     ("mm", 9.5, ""), ("triton_mm_2", 9.9, cfg(32, 32, 32, 4, 4))])
    lines += table(256, 256, 256, "[256, 1], [256, 1]", [("mm", 5.0, "")])  # worker 2
    # NN: the pick is the best ok config; the failed row's config is not taken as measured
    lines += table(64, 32, 128, "[32, 1], [128, 1]", [("triton_mm_3", 4.1, cfg(16, 16, 64, 3, 4)),
                                                      ("triton_mm_4", 4.2, cfg(32, 32, 32, 4, 4))])
    log = write_log(tmp_path, ["noise"] + lines)
    got = list(picks.tables(str(log)))
    assert [(s, key) for s, key, _, _ in got] == [(1, ("NN", 256, 256, 256)), (1, ("NT", 64, 128, 32)),
                                                (2, ("NN", 256, 256, 256)), (2, ("NN", 64, 128, 32))]
    assert got[1][2] == [(16, 16, 64, 3, 4), None, (32, 32, 32, 4, 4)]
    assert got[1][3] == [9.0, 9.5, 9.9]
    r = run_picks(log, data)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "| 1 | NT 64x128x32 | 2 | 10.0 | 8.0 | 5.0 | 0.500 | 0.625 |" in out
    assert "| 2 | NN 64x128x32 | 2 | 4.0 | 4.0 | 4.0 | 1.000 | 1.000 |" in out
    assert "section 1 (?), 1 problems" in out and "section 2 (?), 1 problems" in out  # no result lines: no names


def test_a_log_without_measured_problems_is_an_error(tmp_path):
    data = tmp_path / "d.csv.gz"
    write_data(data)
    log = write_log(tmp_path, table(8, 8, 8, "[8, 1], [8, 1]", [("mm", 1.0, "")]))
    r = run_picks(log, data)
    assert r.returncode != 0 and "no AUTOTUNE table" in r.stderr


def test_a_data_file_with_another_header_is_refused_by_name(tmp_path):
    data = tmp_path / "other.csv.gz"
    with gzip.open(data, "wt") as f:
        f.write("layout,m,n,k,time\nNT,64,128,32,1.0\n")
    log = write_log(tmp_path, table(64, 32, 128, "[32, 1], [1, 32]", [("mm", 1.0, "")]))
    r = run_picks(log, data)
    assert r.returncode != 0 and "other.csv.gz: header" in r.stderr


def test_inductors_timings_against_the_data_and_cublas_by_method(tmp_path):
    data = tmp_path / "d.csv.gz"
    write_data(data)
    lines = table(256, 256, 256, "[256, 1], [256, 1]", [("mm", 5.0, "")])
    # Inductor timed 16x16x64 at 20 us (data 10: ratio 2.0), 32x32x32 at 8 (1.0), ATen at 30 (cuBLAS 10: 3.0)
    lines += table(64, 32, 128, "[32, 1], [1, 32]", [("triton_mm_2", 8.0, cfg(32, 32, 32, 4, 4)),
                                                     ("triton_mm_1", 20.0, cfg(16, 16, 64, 3, 4)), ("mm", 30.0, "")])
    lines += ["    gemmsift-5 NT 64x128x32: 1.00 s, 3 choices, 8.00 us ok"]
    log = write_log(tmp_path, lines)
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"method": "cublas", "layout": "NT", "m": 64, "n": 128, "k": 32, "status": "ok", "kernel_us": 12.0}\n'
                    '{"method": "cublas", "layout": "NT", "m": 64, "n": 128, "k": 32, "status": "ok", "kernel_us": 10.0}\n'
                    '{"method": "stock-default", "layout": "NT", "m": 64, "n": 128, "k": 32, "status": "ok", "kernel_us": 1.0}\n')
    assert picks.section_methods(str(log)) == {1: "gemmsift-5"}
    assert picks.cublas_times(str(rows)) == {("NT", 64, 128, 32): 10.0}
    r = run_picks(log, data, "--rows", rows)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "section 1 (gemmsift-5), 1 problems" in out
    assert ("section 1 (gemmsift-5): Triton configs 2: median 2.00, 90th percentile 2.00, above 1.25 50%; "
            "ATen 1: median 3.00, 90th percentile 3.00, above 1.25 100%") in out


def test_rows_of_several_runs_give_each_runs_own_cublas(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"run": "a", "method": "cublas", "layout": "NT", "m": 64, "n": 128, "k": 32, "status": "ok", "kernel_us": 12.0}\n'
                    '{"run": "b", "method": "cublas", "layout": "NT", "m": 64, "n": 128, "k": 32, "status": "ok", "kernel_us": 10.0}\n')
    assert picks.cublas_times(str(rows)) == {("NT", 64, 128, 32): 10.0}
    assert picks.cublas_times(str(rows), "a") == {("NT", 64, 128, 32): 12.0}
    data = tmp_path / "d.csv.gz"
    write_data(data)
    log = write_log(tmp_path, table(64, 32, 128, "[32, 1], [1, 32]", [("mm", 24.0, "")]))
    r = run_picks(log, data, "--rows", rows, "--run", "c")
    assert r.returncode == 2 and "no cuBLAS row of run c in" in r.stderr
    r = run_picks(log, data, "--run", "a")
    assert r.returncode == 2 and "--run needs --rows" in r.stderr
