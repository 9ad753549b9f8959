"""gemmsift for users' own Triton matmul kernels: an `early_config_prune` for `triton.autotune`.

    import gemmsift.triton

    @triton.autotune(configs=my_configs, key=["M", "N", "K"],
                     prune_configs_by={"early_config_prune": gemmsift.triton.prune(k=5)})
    @triton.jit
    def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K, ..., BLOCK_M: tl.constexpr, ...): ...

Triton then compiles and benchmarks only the model's top k of `my_configs` for each new key.
`do_bench=gemmsift.triton.do_bench` in the same decorator times them with gemmsift's timer
instead of Triton's: about a fifth of the tuning time (see do_bench).
Each config must say its tile sizes in its kwargs (BLOCK_M / BLOCK_N / BLOCK_K, or BLOCK_SIZE_M
/ ...; GROUP_M or GROUP_SIZE_M is optional, 8 when missing) and carry num_stages and num_warps.
Nothing here may break autotuning: on any problem (a config it cannot read, a missing model, an
unknown dtype) it warns once and returns the configs unpruned, which is Triton's stock behaviour.
"""

import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from . import OFF16_POLICIES, Config, Model, Problem
from .stats import quantile

__all__ = ["do_bench", "prune"]

_DTYPES = {"torch.bfloat16": "bf16", "torch.float16": "fp16", "torch.float32": "fp32"}
_KEYS = {
    "block_m": ("BLOCK_M", "BLOCK_SIZE_M"),
    "block_n": ("BLOCK_N", "BLOCK_SIZE_N"),
    "block_k": ("BLOCK_K", "BLOCK_SIZE_K"),
    "group_m": ("GROUP_M", "GROUP_SIZE_M"),
}


def _value(kwargs: Dict[str, Any], field: str) -> Optional[int]:
    for key in _KEYS[field]:
        if key in kwargs:
            return int(kwargs[key])
    return None


def config_from_kwargs(kw: Dict[str, Any], num_stages: int, num_warps: int, what: Any = "config") -> Config:
    """The gemmsift Config of a kernel's kwargs (BLOCK_M or BLOCK_SIZE_M, ...; GROUP_M optional, 8
    when missing); raises ValueError naming `what` when tile sizes are missing."""
    sizes = {f: _value(kw, f) for f in _KEYS}
    missing = [_KEYS[f][0] for f in ("block_m", "block_n", "block_k") if sizes[f] is None]
    if missing:
        raise ValueError(f"{what} has no {', '.join(missing)} in its kwargs")
    return Config(sizes["block_m"], sizes["block_n"], sizes["block_k"], sizes["group_m"] or 8,
                  int(num_stages), int(num_warps))


def to_config(triton_config: Any) -> Config:
    """The gemmsift Config of a triton.Config (raises ValueError when its kwargs lack tile sizes)."""
    return config_from_kwargs(dict(getattr(triton_config, "kwargs", {}) or {}),
                              getattr(triton_config, "num_stages", 3) or 3,
                              getattr(triton_config, "num_warps", 4) or 4, f"config {triton_config}")


def operand_letter(stride: Sequence[int], size: Optional[Sequence[int]] = None) -> str:
    """N: row-major in its last two dims; T: stored transposed (column-major). With the size, a
    dimension of 1 (whose stride says nothing) does not make an operand T."""
    if len(stride) < 2:
        return "N"
    rows, cols = (size[-2], size[-1]) if size is not None and len(size) >= 2 else (2, 2)
    if stride[-1] == 1 and (cols > 1 or rows == 1 or stride[-2] != 1):
        return "N"
    return "T" if stride[-2] == 1 else "N"


def _triton_version() -> Optional[str]:
    try:
        import triton
        return str(triton.__version__)
    except Exception:
        return None


def _letter(t: Any) -> str:
    stride = t.stride() if callable(getattr(t, "stride", None)) else None
    return operand_letter(list(stride), getattr(t, "shape", None)) if stride else "N"


def prune(k: Union[int, str] = 5, model: Union[str, Model] = "auto", *, m: str = "M", n: str = "N",
          k_arg: str = "K", a: str = "a_ptr", b: str = "b_ptr", dtype: Optional[str] = None,
          layout: Optional[str] = None, device: Optional[str] = None, model_mismatch: str = "refuse",
          off16: str = "learned") -> Callable:
    """An `early_config_prune(configs, named_args, **kwargs)` keeping the model's top k configs.

    k: an integer, or "fast" (= 1). model: a gemmsift model spec or file, or a Model; "auto" is the
    shipped model for the device and dtype. A model trained on another device or Triton version,
    or "auto" without a shipped model for the device, is not used: every config is timed (one
    warning); model="analytical" ranks with the analytical model. m, n, k_arg: names of the kernel's M, N, K arguments.
    a, b: names of the A and B tensor arguments, read for the dtype and the layout (row-major "N" or
    column-major "T") unless dtype ("bf16", "fp16", "fp32") and layout ("NN", "NT", ...) are given.
    device: the device name (default: torch's name of the current device when torch is there).
    model_mismatch: "refuse" (default) or "warn": a model trained on another device or Triton
    version is then used, with the library's warning. off16: "learned" (default), "analytical" or
    "padded", as for the Inductor hook (docs/inductor.md); a kernel that takes its strides as arguments, as
    most @triton.autotune kernels do, is the kind the shipped models' data measured, so "learned"
    suits it (the hook's default, "padded", suits Inductor's kernel, which compiles them in).
    """
    top = 1 if k == "fast" else int(k)
    if top < 1:
        raise ValueError(f"k must be at least 1 or 'fast', got {k!r}")
    if model_mismatch not in ("refuse", "warn"):
        raise ValueError(f"model_mismatch must be 'refuse' or 'warn', got {model_mismatch!r}")
    if off16 not in OFF16_POLICIES:
        raise ValueError(f"off16 must be one of {', '.join(OFF16_POLICIES)}, got {off16!r}")
    state: Dict[str, Any] = {"model": model if isinstance(model, Model) else None, "warned": False}

    def warn_once(message: str) -> None:
        if not state["warned"]:
            state["warned"] = True
            warnings.warn(f"gemmsift.triton.prune: {message}; benchmarking every config", RuntimeWarning,
                          stacklevel=3)

    def early_config_prune(configs: Sequence[Any], named_args: Dict[str, Any], **kwargs: Any) -> List[Any]:
        configs = list(configs)
        if len(configs) <= top:
            return configs
        try:
            args = dict(named_args or {})
            args.update(kwargs)
            dt = dtype
            if dt is None:
                name = str(getattr(args.get(a), "dtype", ""))
                if name not in _DTYPES:
                    raise ValueError(f"cannot tell the dtype: argument {a!r} has dtype {name or 'none'} "
                                     f"(pass dtype=)")
                dt = _DTYPES[name]
            lay = layout or (_letter(args.get(a)) + _letter(args.get(b)))
            dev = device
            if dev is None:
                try:
                    import torch
                    dev = torch.cuda.get_device_name() if torch.cuda.is_available() else ""
                except Exception:  # no torch, or no GPU: the model's own device
                    dev = ""
            problem = Problem(int(args[m]), int(args[n]), int(args[k_arg]), dtype=dt, layout=lay, device=dev or "")
            if state["model"] is None:  # refused when it does not fit: then every config is timed
                state["model"] = Model(model, mismatch_policy=model_mismatch, expect_device=dev or None,
                                       expect_triton=_triton_version(), dtype=dt, auto_fallback=False,
                                       off16=off16)
            ours = [to_config(c) for c in configs]
            predicted = state["model"].estimate(problem, ours)
            order = sorted(range(len(configs)), key=lambda i: predicted[i])
            return [configs[i] for i in order[:top]]
        except Exception as e:  # never break the autotuner
            warn_once(f"{type(e).__name__}: {e}")
            return configs

    early_config_prune.gemmsift_k = top  # for introspection and tests
    return early_config_prune


_RETURN_MODES = ("min", "max", "mean", "median", "all")
_bench_state: Dict[str, Any] = {"warned": False}


def do_bench(fn: Callable[[], Any], warmup: Optional[float] = None, rep: Optional[float] = None,
             grad_to_none: Optional[Sequence[Any]] = None, quantiles: Optional[Sequence[float]] = None,
             return_mode: str = "mean") -> Any:
    """`triton.testing.do_bench`'s contract, timed by gemmsift's timer. For triton.autotune:

        @triton.autotune(configs=..., key=[...], do_bench=gemmsift.triton.do_bench)

    What changes (measured on an H200, triton 3.6: docs/results.md, "gemmsift's timer in
    triton.autotune"): tuning takes a fifth of the time (Triton's do_bench spends 25 ms warming up
    and 100 ms timing each config, each timed launch after zeroing 256 MB; gemmsift's timer at
    most 100 launches within 25 ms of kernel time, each after an L2-sized flush and a GPU spin
    that keeps the CPU's launch out of the timed span), with picks as good overall (24 problems,
    one run: 99.9% of the best config's speed against Triton's 99.3%, geometric mean).
    Triton's 256 MB flush already outlasts a launch from Python, so its timings do not carry the
    launch-gap error that Inductor's short lists do (both read within 4% of a reference timer).

    fn is called once untimed first (Triton compiles there; what it raises, such as OutOfResources,
    reaches the caller as from Triton's; without a CUDA torch, Triton's own do_bench is called). Then 5 estimation launches, then as many timed launches
    as fit in rep milliseconds of kernel time (default 25, Inductor's), at most 100. warmup is
    accepted and not used (the estimation launches warm up). Returns milliseconds as Triton's: with
    quantiles a list of them (one quantile: a float), else by return_mode ("min", "max", "mean",
    "median", "all" = the list). If gemmsift's timer fails, a warning (once) and Triton's own
    do_bench times the call, with the arguments given.
    """
    if return_mode not in _RETURN_MODES:
        raise ValueError(f"return_mode must be one of {', '.join(_RETURN_MODES)}, got {return_mode!r}")
    qs = None if quantiles is None else [float(q) for q in quantiles]
    if qs is not None and (not qs or any(not 0.0 <= q <= 1.0 for q in qs)):
        raise ValueError(f"quantiles must be numbers in [0, 1], got {list(quantiles)!r}")
    call = fn
    if grad_to_none is not None:
        def call() -> Any:  # as Triton's: fn must not accumulate gradients over the launches
            for x in grad_to_none:
                x.grad = None
            return fn()
    try:
        first_call = _first_call()
    except Exception as e:  # no CUDA torch here: Triton's own do_bench decides what happens
        return _fall_back(e, fn, warmup, rep, grad_to_none, quantiles, return_mode)
    first_call(fn)  # as Triton's do_bench begins: one untimed call (it compiles there); what it
    try:            # raises (OutOfResources, ...) reaches the caller as from Triton's
        times = [us / 1000.0 for us in _samples(call, 25.0 if rep is None else float(rep))]
    except Exception as e:  # never fail an autotuning: Triton's own timing stands
        return _fall_back(e, fn, warmup, rep, grad_to_none, quantiles, return_mode)
    return summarize(times, qs, return_mode)


def _fall_back(error: Exception, fn: Callable[[], Any], warmup: Optional[float], rep: Optional[float],
               grad_to_none: Any, quantiles: Any, return_mode: str) -> Any:
    """Triton's own do_bench with the arguments the caller gave, after a warning (once)."""
    if not _bench_state["warned"]:
        _bench_state["warned"] = True
        warnings.warn(f"gemmsift.triton.do_bench: gemmsift's timer failed, Triton's times instead: "
                      f"{type(error).__name__}: {error}", RuntimeWarning, stacklevel=3)
    given = {k: v for k, v in (("warmup", warmup), ("rep", rep)) if v is not None}
    return _stock_do_bench()(fn, grad_to_none=grad_to_none, quantiles=quantiles, return_mode=return_mode, **given)


def summarize(times: Sequence[float], quantiles: Optional[Sequence[float]], return_mode: str) -> Any:
    """do_bench's result from the launches' times, as triton.testing summarizes them."""
    if quantiles is not None:
        out = [quantile(times, q) for q in quantiles]
        return out[0] if len(out) == 1 else out
    if return_mode == "all":
        return list(times)
    if return_mode == "min":
        return min(times)
    if return_mode == "max":
        return max(times)
    if return_mode == "median":
        return quantile(times, 0.5)
    return sum(times) / len(times)


# The GPU side, separate so CPU tests can stand in for it.
def _first_call() -> Callable[[Callable[[], Any]], None]:
    from .collect.timing import first_call  # imports torch
    return first_call


def _samples(fn: Callable[[], Any], budget_ms: float) -> List[float]:
    import torch
    from .collect.timing import autotune_timer
    return autotune_timer(torch.cuda.current_device()).samples(fn, budget_ms=budget_ms)


def _stock_do_bench() -> Callable[..., Any]:
    from triton.testing import do_bench as stock
    return stock
