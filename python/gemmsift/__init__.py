"""gemmsift: cheap GEMM autotuning.

Pure Python over libgemmsift's C API (ctypes). Ranks Triton matmul configs so an autotuner benchmarks
a handful instead of hundreds::

    import gemmsift
    sel = gemmsift.select(gemmsift.Problem(4096, 4096, 4096, dtype="bf16", layout="NT"),
                          benchmark_space=5)
    for cand in sel.candidates:
        print(cand.config, cand.predicted_us)
"""

import ctypes
import dataclasses
import json
from typing import List, Optional, Sequence, Union

from . import _lib
from ._lib import CConfig, __version__, library_path
from .errors import (FileError, GemmsiftError, InternalError, InvalidArgumentError, LibraryError,
                     MismatchError, NotFoundError, ParseError, UnsupportedError)

__all__ = [
    "Problem", "Config", "Candidate", "Selection", "Model", "LookupTable", "Selector", "space",
    "select", "record", "version", "__version__", "OFF16_POLICIES",
    "library_path", "GemmsiftError", "InvalidArgumentError", "ParseError", "FileError",
    "NotFoundError", "UnsupportedError", "MismatchError", "InternalError", "LibraryError",
]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One GEMM: C[M,N] = A[M,K] @ B[K,N]. layout: N = row-major, T = stored transposed, one letter
    for A then one for B (nn.Linear is "NT")."""

    m: int
    n: int
    k: int
    dtype: str = "bf16"
    layout: str = "NN"
    op: str = "mm"
    device: str = ""
    batch: int = 1

    def to_json(self) -> str:
        d = {"m": int(self.m), "n": int(self.n), "k": int(self.k), "dtype": str(self.dtype),
             "layout": str(self.layout), "op": str(self.op)}
        if self.device:
            d["device"] = str(self.device)
        if self.batch != 1:
            d["batch"] = int(self.batch)
        return json.dumps(d)


@dataclasses.dataclass(frozen=True)
class Config:
    """One triton_mm kernel configuration."""

    block_m: int
    block_n: int
    block_k: int
    group_m: int = 8
    num_stages: int = 3
    num_warps: int = 4
    template: str = "triton_mm"

    @classmethod
    def from_json(cls, d) -> "Config":
        return cls(d["block_m"], d["block_n"], d["block_k"], d.get("group_m", 8),
                   d["num_stages"], d["num_warps"], d.get("template", "triton_mm"))

    def to_c(self) -> CConfig:
        if self.template != "triton_mm":
            raise InvalidArgumentError(f"unknown template '{self.template}': expected triton_mm", 1)
        return CConfig(0, self.block_m, self.block_n, self.block_k, self.group_m, self.num_stages,
                       self.num_warps)

    def __str__(self) -> str:
        return (f"{self.block_m}x{self.block_n}x{self.block_k} g{self.group_m} "
                f"s{self.num_stages} w{self.num_warps}")


@dataclasses.dataclass(frozen=True)
class Candidate:
    config: Config
    source: str                    # "lut", "model", "anchor" (a DEFAULT-list config: anchors=) or "space"
    model_rank: Optional[int]      # rank among the model's predictions (0 = best), if ranked
    predicted_us: Optional[float]  # None when the model did not score it or it cannot launch
    origin: str = ""


@dataclasses.dataclass(frozen=True)
class Selection:
    problem: Problem
    candidates: List[Candidate]
    search_space_size: int
    default_count: int
    model: str
    skip_benchmark: bool

    @property
    def configs(self) -> List[Config]:
        return [c.config for c in self.candidates]


ProblemLike = Union[Problem, dict]


def _problem(p: ProblemLike) -> Problem:
    if isinstance(p, Problem):
        return p
    if isinstance(p, dict):
        return Problem(**p)
    raise InvalidArgumentError(f"expected a gemmsift.Problem or a dict, got {type(p).__name__}", 1)


def _config_dict(c: "Config") -> dict:
    return {"block_m": c.block_m, "block_n": c.block_n, "block_k": c.block_k, "group_m": c.group_m,
            "num_stages": c.num_stages, "num_warps": c.num_warps}


def _opts(**kw) -> bytes:
    return json.dumps({k: v for k, v in kw.items() if v is not None}).encode()


def version() -> str:
    """Version of the loaded libgemmsift."""
    v = ctypes.c_char_p()
    abi = ctypes.c_int()
    _lib.check(_lib.lib().gs_version(ctypes.byref(v), ctypes.byref(abi)))
    return v.value.decode()


def space(problem: ProblemLike, space: str = "EXHAUSTIVE",
          shared_memory_limit: Optional[int] = None) -> List[Config]:
    """The search space Inductor (torch 2.11) would use for this problem, in its order."""
    p = _problem(problem)
    out = ctypes.c_void_p()
    _lib.check(_lib.lib().gs_space(p.to_json().encode(),
                                   _opts(space=space, shared_memory_limit=shared_memory_limit),
                                   ctypes.byref(out)))
    data = json.loads(_lib.take_string(out))
    return [Config.from_json(c) for c in data["configs"]]


class _Handle:
    """Owns one C handle and frees it once."""

    _free = ""

    def __init__(self):
        self._handle = ctypes.c_void_p()
        self._lib = _lib.lib()

    def close(self) -> None:
        if self._handle:
            getattr(self._lib, self._free)(self._handle)
            self._handle = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _require_open(self):
        if not self._handle:
            raise InvalidArgumentError(f"the {type(self).__name__} is closed", 1)


# Model's off16 values, the library's default first (ModelOptions::off16, docs/inductor.md).
OFF16_POLICIES = ("padded", "learned", "analytical")


class Model(_Handle):
    """A performance model: a spec ("analytical", "analytical:device=H200"), a model file, or
    "auto": the shipped model for expect_device and dtype (else the analytical model, with a
    warning; or NotFoundError with auto_fallback=False). A model trained on another device or
    Triton version is warned about, or refused with mismatch_policy="refuse". off16: how a
    learned model whose data took the sizes as arguments scores a problem with a leading stride
    that is even but not a multiple of 16: "padded" (the library's default, for Inductor's
    kernel) as the problem with those dimensions padded to a multiple of 16 where the stride is
    8-byte aligned; "learned" as it is (right for a kernel that takes its strides as arguments);
    "analytical" with the analytical model (docs/inductor.md)."""

    _free = "gs_model_free"

    def __init__(self, spec: str = "analytical", mismatch_policy: str = "warn",
                 expect_device: Optional[str] = None, expect_triton: Optional[str] = None,
                 dtype: str = "bf16", auto_fallback: bool = True, off16: Optional[str] = None):
        super().__init__()
        _lib.check(self._lib.gs_model_create(
            spec.encode(), _opts(mismatch_policy=mismatch_policy, expect_device=expect_device,
                                 expect_triton=expect_triton, dtype=dtype, auto_fallback=auto_fallback,
                                 off16=off16),
            ctypes.byref(self._handle)))

    def drift(self, measurements) -> dict:
        """How well predictions fit measured times. measurements: [(problem, [(config, us), ...]), ...].
        Returns spearman (mean per-problem rank correlation), median_abs_log_error, quality_at_1/5."""
        self._require_open()
        payload = []
        for problem, rows in measurements:
            p = _problem(problem)
            payload.append({"problem": json.loads(p.to_json()),
                            "measurements": [{"config": _config_dict(c), "time_us": float(t)} for c, t in rows]})
        out = ctypes.c_void_p()
        _lib.check(self._lib.gs_model_drift(self._handle, json.dumps(payload).encode(), ctypes.byref(out)))
        return json.loads(_lib.take_string(out))

    def info(self) -> dict:
        """Kind, device, versions, schema and metrics of the model."""
        self._require_open()
        out = ctypes.c_void_p()
        _lib.check(self._lib.gs_model_info(self._handle, ctypes.byref(out)))
        return json.loads(_lib.take_string(out))

    @property
    def name(self) -> str:
        return self.info()["name"]

    def estimate(self, problem: ProblemLike, configs: Sequence[Config]) -> List[float]:
        """Predicted microseconds per config (math.inf where a config cannot launch)."""
        self._require_open()
        p = _problem(problem)
        n = len(configs)
        arr = (CConfig * n)(*[c.to_c() for c in configs])
        out = (ctypes.c_double * n)()
        _lib.check(self._lib.gs_model_estimate(self._handle, p.to_json().encode(), arr, n, out))
        return list(out)


def select(problem: ProblemLike, model: Union[Model, str, None] = "analytical",
           benchmark_space: Union[str, int] = "DEFAULT", space: str = "EXHAUSTIVE",
           shared_memory_limit: Optional[int] = None, anchors: int = 0) -> Selection:
    """The configs to benchmark for a problem, best first. benchmark_space: "SAME", "DEFAULT",
    "fast" (= 1) or an integer k. anchors: of the k, this many (at most k - 1) are the configs of
    Inductor's DEFAULT list the model ranks highest (source "anchor"): the pick is then less often
    slower than the whole DEFAULT list (docs/results.md, "DEFAULT anchors")."""
    p = _problem(problem)
    owned = None
    if isinstance(model, str):
        owned = model = Model(model)
    try:
        handle = model._handle if model is not None else None
        if model is not None:
            model._require_open()
        out = ctypes.c_void_p()
        _lib.check(_lib.lib().gs_select(
            handle, p.to_json().encode(),
            _opts(space=space, benchmark_space=benchmark_space,
                  shared_memory_limit=shared_memory_limit, anchors=anchors),
            ctypes.byref(out)))
        data = json.loads(_lib.take_string(out))
    finally:
        if owned is not None:
            owned.close()
    return _selection(p, data)


def _selection(p: Problem, data: dict) -> Selection:
    cands = [Candidate(Config.from_json(c["config"]), c["source"], c["model_rank"],
                       c["predicted_us"], c.get("origin", "")) for c in data["candidates"]]
    return Selection(p, cands, data["search_space_size"], data["default_count"], data["model"],
                     data["skip_benchmark"])


class LookupTable(_Handle):
    """A gemmsift lookup table file (docs/lut-format.md). Skipped entries and unknown fields are in
    .warnings; strict=True makes them errors."""

    _free = "gs_lut_free"

    def __init__(self, path: str, strict: bool = False):
        super().__init__()
        warnings = ctypes.c_void_p()
        _lib.check(self._lib.gs_lut_load(str(path).encode(), _opts(strict=strict),
                                         ctypes.byref(self._handle), ctypes.byref(warnings)))
        self.path = str(path)
        self.warnings: List[str] = json.loads(_lib.take_string(warnings))

    def lookup(self, problem: ProblemLike) -> Optional[dict]:
        """The entry for the problem (device-specific first, then device-agnostic), or None."""
        self._require_open()
        out = ctypes.c_void_p()
        _lib.check(self._lib.gs_lut_lookup(self._handle, _problem(problem).to_json().encode(),
                                           ctypes.byref(out)))
        data = json.loads(_lib.take_string(out))
        return data["entry"] if data["found"] else None


class Selector(_Handle):
    """A reusable selector over a model and an optional lookup table (options as select()'s)."""

    _free = "gs_selector_free"

    def __init__(self, model: Union["Model", str, None] = "analytical",
                 lut: Optional[LookupTable] = None, benchmark_space: Union[str, int] = "DEFAULT",
                 space: str = "EXHAUSTIVE", pinned_only: bool = False,
                 shared_memory_limit: Optional[int] = None, triton_version: Optional[str] = None,
                 anchors: int = 0):
        super().__init__()
        owned = Model(model) if isinstance(model, str) else None
        try:
            m = owned or model
            if m is not None:
                m._require_open()
            if lut is not None:
                lut._require_open()
            _lib.check(self._lib.gs_selector_create(
                m._handle if m is not None else None, lut._handle if lut is not None else None,
                _opts(space=space, benchmark_space=benchmark_space, pinned_only=pinned_only,
                      shared_memory_limit=shared_memory_limit, triton_version=triton_version,
                      anchors=anchors),
                ctypes.byref(self._handle)))
        finally:
            if owned is not None:
                owned.close()

    def select(self, problem: ProblemLike) -> Selection:
        self._require_open()
        p = _problem(problem)
        out = ctypes.c_void_p()
        _lib.check(self._lib.gs_selector_select(self._handle, p.to_json().encode(), ctypes.byref(out)))
        return _selection(p, json.loads(_lib.take_string(out)))


def record(path: str, problem: ProblemLike, config: Config, measured_us: Optional[float] = None,
           source: str = "gemmsift python", date: Optional[str] = None, note: str = "",
           max_configs: int = 0) -> bool:
    """Add a measured config to a lookup table file (created if missing), under a file lock and
    atomically. Returns True when the file changed."""
    c = {"template": config.template, "block_m": config.block_m, "block_n": config.block_n,
         "block_k": config.block_k, "group_m": config.group_m, "num_stages": config.num_stages,
         "num_warps": config.num_warps, "source": source}
    if measured_us is not None:
        c["measured_us"] = float(measured_us)
    if date is None:
        import datetime
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    c["date"] = date
    if note:
        c["note"] = note
    changed = ctypes.c_int()
    _lib.check(_lib.lib().gs_lut_record(str(path).encode(), _problem(problem).to_json().encode(),
                                        json.dumps(c).encode(), _opts(max_configs=max_configs),
                                        ctypes.byref(changed)))
    return bool(changed.value)
