"""A small test runner for the GPU machine, where pytest may be missing: runs a module's test_*
functions in name order (-k SUBSTRING: only those whose name holds it), prints pass/FAIL with the
traceback, and with --json OUT writes the results with the device and the torch and Triton
versions. The files run under pytest too."""
import json
import sys
import time
import traceback


def run_tests(namespace, argv=None):
    import torch
    import triton
    argv = sys.argv if argv is None else argv
    only = argv[argv.index("-k") + 1] if "-k" in argv else ""  # -k SUBSTRING: only tests whose name holds it
    tests = [v for k, v in sorted(namespace.items()) if k.startswith("test_") and callable(v) and only in k]
    results = []
    for t in tests:
        t0 = time.time()
        try:
            t()
            status, detail = "pass", ""
        except Exception as e:
            status, detail = "FAIL", "".join(traceback.format_exception(e))[-3000:]
        results.append({"test": t.__name__, "status": status, "seconds": round(time.time() - t0, 1), "detail": detail})
        print(f"{status:4} {t.__name__} ({results[-1]['seconds']} s)", flush=True)
        if detail:
            print(detail, flush=True)
    if "--json" in argv:
        with open(argv[argv.index("--json") + 1], "w") as f:
            json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                       "triton": triton.__version__, "results": results}, f, indent=1)
    failed = [r for r in results if r["status"] != "pass"]
    print(f"{len(results) - len(failed)}/{len(results)} passed")
    return 1 if failed else 0
