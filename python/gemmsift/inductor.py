"""gemmsift in PyTorch Inductor: max-autotune that benchmarks a handful of Triton mm configs.

    import gemmsift.inductor
    gemmsift.inductor.install(benchmark_space=5)          # or "DEFAULT", "SAME", "fast"
    f = torch.compile(model, mode="max-autotune-no-cudagraphs")

For every mm, addmm and bmm that Inductor autotunes, the Triton mm template searches Inductor's
EXHAUSTIVE space (about 1,400 configs) and gemmsift's model keeps the best k of it; lookup-table hits
always get in. The ATen (cuBLAS) choice and every other template stay as Inductor made them.
Without code changes, set the same settings in the environment and run the program under
`python -m gemmsift.inductor program.py ARGS` (or call `install()` with no arguments):

    GEMMSIFT_BENCHMARK_SPACE   5, DEFAULT, SAME or fast
    GEMMSIFT_LUT               a gemmsift lookup table (hits are always benchmarked)
    GEMMSIFT_MODEL             model spec or file ("auto": the shipped model for the device)
    GEMMSIFT_RECORD            a lookup table file that each autotune's best Triton config is added to
    GEMMSIFT_BENCHMARK_PASSES  times Inductor benchmarks a list holding Triton mm choices (default 1;
                               2: every choice timed twice, the faster time kept)
    GEMMSIFT_BENCHMARK_TIMER   gemmsift (default) or inductor: who times the choices of such a list
    GEMMSIFT_MODEL_MISMATCH    refuse (default) or warn: a model trained on another GPU or Triton
                               version leaves Inductor's stock configs, or is used with a warning
    GEMMSIFT_ANCHORS           how many of the k are the DEFAULT-list configs the model ranks
                               highest (default 0; at most k - 1)

Arguments given to install() win over the environment. Nothing here may fail a compile: on any
problem (an unreadable table, a missing model, an op it cannot read) it warns once and Inductor
gets its stock configs. This module imports without torch; install() needs torch 2.11's
InductorChoices (torch._inductor.choices).
"""

import contextlib
import dataclasses
import functools
import json
import os
import re
import threading
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import OFF16_POLICIES, Config, LookupTable, Model, Problem, Selector, __version__, record as _record_config
from .errors import MismatchError
from .triton import _DTYPES, _triton_version, config_from_kwargs, operand_letter

__all__ = ["install", "uninstall", "installed", "Settings", "Hook", "parse_benchmark_space", "parse_anchors",
           "parse_benchmark_timer", "parse_model_mismatch", "parse_off16", "settings_from_env",
           "resolve_settings", "ENV", "TIMERS", "MISMATCH_POLICIES", "OFF16_POLICIES"]

ENV = {
    "benchmark_space": "GEMMSIFT_BENCHMARK_SPACE",
    "lut": "GEMMSIFT_LUT",
    "model": "GEMMSIFT_MODEL",
    "record": "GEMMSIFT_RECORD",
    "benchmark_passes": "GEMMSIFT_BENCHMARK_PASSES",
    "benchmark_timer": "GEMMSIFT_BENCHMARK_TIMER",
    "model_mismatch": "GEMMSIFT_MODEL_MISMATCH",
    "anchors": "GEMMSIFT_ANCHORS",
    "off16": "GEMMSIFT_OFF16",
}

# Who times the choices of an autotune list that holds Triton mm choices: Inductor's own
# benchmarker, or gemmsift's (the collector's timer, gemmsift.collect.timing).
TIMERS = ("inductor", "gemmsift")

# What a model trained on another GPU or Triton version does: "refuse" (Inductor keeps its stock
# configs, one warning) or "warn" (used, the library warns once per model file and reason).
MISMATCH_POLICIES = ("refuse", "warn")

# How a learned model trained on the arguments kernel's data scores a problem with a leading stride
# that is even but not a multiple of 16: "padded" (the default: its networks, on the problem with
# each such dimension padded to a multiple of 16 where the stride is 8-byte aligned, as Inductor's
# kernel runs it; the best ranking on 48 such unseen shapes timed with Inductor's kernel, session
# 18), "learned" (its networks on the problem as it is) or "analytical" (the analytical model);
# docs/inductor.md. The library's tuple (gemmsift.OFF16_POLICIES), named here too.

# Inductor template uid -> the ops whose configs gemmsift chooses for it.
TEMPLATES = {"triton::mm": ("mm", "addmm"), "triton::bmm": ("bmm",)}

_KEY_FIELDS = ("BLOCK_M", "BLOCK_N", "BLOCK_K", "GROUP_M", "num_stages", "num_warps")
_DESC = re.compile(r"\b(" + "|".join(_KEY_FIELDS) + r")=(\d+)")

BenchmarkSpace = Union[int, str]


def _parse_count(value: Any, name: str, least: int) -> int:
    """An int (or a string of digits) of at least `least`; ValueError naming `name` otherwise."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        kind = "a positive integer" if least == 1 else f"an integer of at least {least}"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return value


def parse_benchmark_passes(value: Any) -> int:
    """1, 2, "3" -> that many benchmark passes (at least 1)."""
    return _parse_count(value, "benchmark_passes", 1)


def parse_anchors(value: Any) -> int:
    """0, 2, "2" -> that many DEFAULT anchors (at least 0)."""
    return _parse_count(value, "anchors", 0)


def parse_benchmark_timer(value: Any) -> str:
    """"inductor" or "gemmsift" (any case)."""
    if isinstance(value, str) and value.strip().lower() in TIMERS:
        return value.strip().lower()
    raise ValueError(f"benchmark_timer must be one of {', '.join(TIMERS)}, got {value!r}")


def parse_model_mismatch(value: Any) -> str:
    """"refuse" or "warn" (any case)."""
    if isinstance(value, str) and value.strip().lower() in MISMATCH_POLICIES:
        return value.strip().lower()
    raise ValueError(f"model_mismatch must be one of {', '.join(MISMATCH_POLICIES)}, got {value!r}")


def parse_off16(value: Any) -> str:
    """"padded", "learned" or "analytical" (any case)."""
    if isinstance(value, str) and value.strip().lower() in OFF16_POLICIES:
        return value.strip().lower()
    raise ValueError(f"off16 must be one of {', '.join(OFF16_POLICIES)}, got {value!r}")


def parse_benchmark_space(value: Any) -> BenchmarkSpace:
    """5, "5", "DEFAULT", "SAME", "fast" (any case) -> a positive int or "DEFAULT"/"SAME"/"fast"."""
    if isinstance(value, bool):
        raise ValueError(f"benchmark_space must be a positive integer, DEFAULT, SAME or fast, got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"benchmark_space must be at least 1, got {value}")
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return parse_benchmark_space(int(text))
        for word in ("DEFAULT", "SAME", "fast"):
            if text.lower() == word.lower():
                return word
    raise ValueError(f"benchmark_space must be a positive integer, DEFAULT, SAME or fast, got {value!r}")


@dataclasses.dataclass(frozen=True)
class Settings:
    benchmark_space: BenchmarkSpace = 5
    lut: Optional[str] = None
    model: str = "auto"
    record: Optional[str] = None
    # How many times Inductor benchmarks an autotune list that holds Triton mm choices; each
    # choice keeps its fastest time. With Inductor's timer 2 passes did not mend its inflated
    # timings of short lists (docs/results.md, run h200x2-L): the timer below did.
    benchmark_passes: int = 1
    # "gemmsift": the choices of such a list are timed by gemmsift's timer, which keeps the GPU
    # busy between the cache flush and the start event so that the CPU's launch time is not timed
    # (Inductor's benchmarker times it when the launch takes longer than the flush: on an H200 it
    # timed short lists' ATen choice at a median 1.7-1.9 times cuBLAS, gemmsift's 1.00;
    # docs/results.md, runs h200x2-M and N). "inductor": Inductor's own benchmark_gpu.
    benchmark_timer: str = "gemmsift"
    # "refuse": a model of another GPU or Triton version is not used (stock configs, one warning);
    # "warn": it is used, with the library's warning (for a GPU close to the model's, say).
    model_mismatch: str = "refuse"
    # DEFAULT anchors: of the k configs, this many (at most k - 1) are the DEFAULT-list configs the
    # model ranks highest, so the pick is less often slower than stock DEFAULT (docs/results.md).
    anchors: int = 0
    # How a learned model whose data took the sizes as arguments ranks a problem with a leading
    # stride that is even but not a multiple of 16 (OFF16_POLICIES): "padded" as the problem padded
    # to 16 where the stride is 8-byte aligned, as Inductor's kernel runs it (docs/inductor.md).
    off16: str = "padded"

    def uuid(self) -> str:
        """Identifies these settings for Inductor's caches: the table's and model file's size and
        modification time are in it, so an edited file gives new cache keys."""
        def stamp(path: Optional[str]) -> Optional[str]:
            if not path:
                return None
            try:
                st = os.stat(path)
                return f"{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}"
            except OSError:
                return f"{path}:missing"
        model = stamp(self.model) if os.path.sep in self.model or self.model.endswith(".safetensors") else self.model
        return json.dumps({"gemmsift": __version__, "benchmark_space": self.benchmark_space,
                           "lut": stamp(self.lut), "model": model, "record": bool(self.record),
                           "benchmark_passes": self.benchmark_passes, "benchmark_timer": self.benchmark_timer,
                           "model_mismatch": self.model_mismatch, "anchors": self.anchors, "off16": self.off16},
                          sort_keys=True)


def settings_from_env(environ: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
    """The settings the environment gives (only those set), checked; ValueError names the variable."""
    env = os.environ if environ is None else environ
    out: Dict[str, Any] = {}
    for field, var in ENV.items():
        value = env.get(var)
        if value is None or value.strip() == "":
            continue
        parse = {"benchmark_space": parse_benchmark_space, "benchmark_passes": parse_benchmark_passes,
                 "benchmark_timer": parse_benchmark_timer, "model_mismatch": parse_model_mismatch,
                 "anchors": parse_anchors, "off16": parse_off16}.get(field)
        if parse is not None:
            try:
                out[field] = parse(value)
            except ValueError as e:
                raise ValueError(f"{var}={value!r}: {e}") from None
        else:
            out[field] = value.strip()
    return out


def resolve_settings(benchmark_space: Optional[BenchmarkSpace] = None, lut: Optional[str] = None,
                     model: Optional[str] = None, record: Optional[str] = None,
                     environ: Optional[Dict[str, str]] = None, benchmark_passes: Optional[int] = None,
                     benchmark_timer: Optional[str] = None, model_mismatch: Optional[str] = None,
                     anchors: Optional[int] = None, off16: Optional[str] = None) -> Settings:
    """Arguments first, then the environment, then the defaults (k = 5, model "auto", 1 pass,
    gemmsift's timer, a mismatched model refused, no DEFAULT anchors, off16 "padded")."""
    given = {"benchmark_space": parse_benchmark_space(benchmark_space) if benchmark_space is not None else None,
             "lut": os.fspath(lut) if lut is not None else None,
             "model": os.fspath(model) if model is not None else None,
             "record": os.fspath(record) if record is not None else None,
             "benchmark_passes": parse_benchmark_passes(benchmark_passes) if benchmark_passes is not None else None,
             "benchmark_timer": parse_benchmark_timer(benchmark_timer) if benchmark_timer is not None else None,
             "model_mismatch": parse_model_mismatch(model_mismatch) if model_mismatch is not None else None,
             "anchors": parse_anchors(anchors) if anchors is not None else None,
             "off16": parse_off16(off16) if off16 is not None else None}
    env = settings_from_env(environ)
    merged = {k: (v if v is not None else env.get(k)) for k, v in given.items()}
    return Settings(**{k: v for k, v in merged.items() if v is not None})


# ---------------------------------------------------------------------------------------------
# Reading Inductor's objects (duck-typed, so the logic is testable without torch).

def _int_hint(expr: Any, hint: Callable[[Any], int]) -> int:
    if isinstance(expr, int):
        return expr
    try:
        return int(expr)
    except (TypeError, ValueError):
        return int(hint(expr))


def _dtype_name(dtype: Any) -> Optional[str]:
    return _DTYPES.get(str(dtype))


def problem_of_nodes(nodes: Sequence[Any], op_name: str, hint: Callable[[Any], int], device: str = "",
                     mat1_idx: int = -2, mat2_idx: int = -1) -> Optional[Problem]:
    """The gemmsift Problem of an mm/addmm/bmm's input nodes (objects with get_size, get_stride and
    get_dtype), sizes through `hint` where symbolic; None for an op or dtype gemmsift has no
    space for."""
    if op_name not in ("mm", "addmm", "bmm") or len(nodes) < 2:
        return None
    a, b = nodes[mat1_idx], nodes[mat2_idx]
    dtype = _dtype_name(a.get_dtype())
    if dtype is None or _dtype_name(b.get_dtype()) != dtype:
        return None
    sa = [_int_hint(s, hint) for s in a.get_size()]
    sb = [_int_hint(s, hint) for s in b.get_size()]
    ta = [_int_hint(s, hint) for s in a.get_stride()]
    tb = [_int_hint(s, hint) for s in b.get_stride()]
    if len(sa) != len(sb) or len(sa) not in (2, 3) or (len(sa) == 3) != (op_name == "bmm"):
        return None
    m, k = sa[-2], sa[-1]
    k2, n = sb[-2], sb[-1]
    if k != k2 or min(m, n, k) < 1:
        return None
    batch = sa[0] if len(sa) == 3 else 1
    layout = operand_letter(ta, sa) + operand_letter(tb, sb)
    return Problem(m, n, k, dtype=dtype, layout=layout, op=op_name, device=device or "", batch=batch)


def choice_kwargs(ktc: Any) -> Dict[str, Any]:
    """The template kwargs of a KernelTemplateChoice (BLOCK_M, ..., num_stages, num_warps)."""
    params = getattr(ktc, "params", None)
    to_kwargs = getattr(params, "to_kwargs", None)
    if callable(to_kwargs):
        return dict(to_kwargs())
    kwargs = getattr(params, "kwargs", None)
    if isinstance(kwargs, dict):
        return dict(kwargs)
    raise TypeError(f"cannot read the config of {type(ktc).__name__}: no params.to_kwargs()")


def config_key(kwargs: Dict[str, Any]) -> Optional[Tuple[int, ...]]:
    """(BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M, num_stages, num_warps) of a choice's kwargs; None when
    they are not a Triton mm config."""
    if "num_stages" not in kwargs or "num_warps" not in kwargs:
        return None
    try:
        return _key_of(config_from_kwargs(kwargs, kwargs["num_stages"], kwargs["num_warps"]))
    except ValueError:
        return None


def _key_of(c: Config) -> Tuple[int, ...]:
    return (c.block_m, c.block_n, c.block_k, c.group_m, c.num_stages, c.num_warps)


def is_triton_mm_name(name: str) -> bool:
    """Whether an autotune choice's name is one of Inductor's Triton mm/bmm template kernels
    ("triton_mm_12", "triton_bmm_3"), as opposed to ATen or another template."""
    return re.match(r"triton_b?mm_", name) is not None


def config_of_description(text: str) -> Optional[Config]:
    """The Config in a Triton template caller's description ("BLOCK_M=64, ... num_warps=4")."""
    d = {k: int(v) for k, v in _DESC.findall(text or "")}
    key = config_key(d)
    return Config(*key) if key else None


# ---------------------------------------------------------------------------------------------

class Unusable(RuntimeError):
    """The lookup table or the model cannot be used (kind: "lut" or "model")."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class Hook:
    """What the installed InductorChoices does, free of torch: choose each filtered template's
    configs, record winners, warn once per kind of problem, count what it did."""

    def __init__(self, settings: Settings, warn: Optional[Callable[[str], None]] = None):
        self.settings = settings
        self._warn = warn or (lambda msg: warnings.warn(msg, RuntimeWarning, stacklevel=4))
        self._warned: set = set()
        self._lock = threading.Lock()
        self._lut: Optional[LookupTable] = None
        self._lut_error: Optional[str] = None
        self._lut_loaded = False
        self._selectors: Dict[Tuple[str, str], Selector] = {}
        self.stats = {"ops": 0, "filtered": 0, "fallbacks": 0, "lut_hits": 0, "recorded": 0,
                      "record_failures": 0, "rebenchmarked": 0, "gemmsift_timed": 0}
        self.decisions: List[Dict[str, Any]] = []  # the last few, for tests and benchmarks

    # -- warnings ---------------------------------------------------------------------------
    def warn_once(self, kind: str, message: str) -> None:
        with self._lock:
            if kind in self._warned:
                return
            self._warned.add(kind)
        self._warn(f"gemmsift.inductor: {message}")

    # -- resources --------------------------------------------------------------------------
    def lut(self) -> Optional[LookupTable]:
        """The lookup table (loaded once); raises with the file and place when it cannot be read."""
        if not self.settings.lut:
            return None
        with self._lock:
            if not self._lut_loaded:
                self._lut_loaded = True
                try:
                    self._lut = LookupTable(self.settings.lut)
                except Exception as e:
                    self._lut_error = str(e)
            if self._lut_error is not None:
                raise Unusable("lut", f"lookup table unusable: {self._lut_error}")
            return self._lut

    def selector(self, problem: Problem) -> Selector:
        key = (problem.dtype, problem.device)
        with self._lock:
            sel = self._selectors.get(key)
        if sel is not None:
            return sel
        lut = self.lut()
        triton_version = _triton_version()
        model = self._model(problem.device, problem.dtype, triton_version)
        try:
            sel = Selector(model, lut=lut, benchmark_space=self.settings.benchmark_space,
                           space="EXHAUSTIVE", triton_version=triton_version, anchors=self.settings.anchors)
        finally:
            model.close()
        with self._lock:
            self._selectors.setdefault(key, sel)
            return self._selectors[key]

    def _model(self, device: str, dtype: str, triton_version: Optional[str]) -> Model:
        """The model, refused (Unusable) when it was trained on another device or Triton version
        (unless model_mismatch is "warn") or, for "auto", when no shipped model matches: stock
        Inductor beats a model that does not fit."""
        try:
            return Model(self.settings.model, mismatch_policy=self.settings.model_mismatch, expect_device=device or None,
                         expect_triton=triton_version, dtype=dtype, auto_fallback=False, off16=self.settings.off16)
        except Exception as e:
            hint = " (model_mismatch='warn' uses it anyway)" if isinstance(e, MismatchError) else \
                " (model='analytical' ranks with the analytical model instead)" if self.settings.model == "auto" else ""
            raise Unusable("model", f"model '{self.settings.model}' unusable: {e}{hint}") from e

    def check(self, device: str = "", dtype: str = "bf16") -> List[str]:
        """Loads the table and the model now; returns the problems found (each also warned once)."""
        problems = []
        try:
            self.lut()
        except Unusable as e:
            problems.append(str(e))
            self.warn_once(e.kind, f"{e}; Inductor keeps its stock configs")
        if self.settings.benchmark_space != "SAME":
            try:
                self._model(device, dtype, _triton_version()).close()
            except Unusable as e:
                problems.append(str(e))
                self.warn_once(e.kind, f"{e}; Inductor keeps its stock configs")
        return problems

    # -- the hook ---------------------------------------------------------------------------
    def finalize(self, template_choices: Dict[str, Iterable[Any]], templates: Sequence[Any], op_name: str,
                 problem_of: Callable[[], Optional[Problem]], stock: Callable[[Dict[str, Iterable[Any]]], List[Any]],
                 exhaustive: Callable[[Any], List[Any]], make_choice: Callable[[Any, Dict[str, Any]], Any]) -> List[Any]:
        """Inductor's _finalize_template_configs with gemmsift in front of the filtered templates.
        stock(choices by uid) is Inductor's own finalisation; exhaustive(template) the template's
        choices over the EXHAUSTIVE space; make_choice(base choice, kwargs) one more choice."""
        materialized = {uid: list(gen) for uid, gen in template_choices.items()}

        def stock_again() -> List[Any]:
            return stock({uid: iter(lst) for uid, lst in materialized.items()})

        ours = [t for t in templates if op_name in TEMPLATES.get(getattr(t, "uid", None), ())]
        if not ours:
            return stock_again()
        self.stats["ops"] += 1
        try:
            problem = problem_of()
            if problem is None:
                return stock_again()
            chosen = dict(materialized)
            for template in ours:
                chosen[template.uid] = self._choose(problem, template, materialized.get(template.uid, []),
                                                    exhaustive, make_choice)
            result = stock({uid: iter(lst) for uid, lst in chosen.items()})
            self.stats["filtered"] += 1
            return result
        except Exception as e:  # never fail a compile
            self.stats["fallbacks"] += 1
            if isinstance(e, Unusable):
                self.warn_once(e.kind, f"{e}; Inductor keeps its stock configs")
            else:
                self.warn_once(type(e).__name__, f"{type(e).__name__}: {e}; Inductor keeps its stock configs")
            return stock_again()

    def _choose(self, problem: Problem, template: Any, stock_list: List[Any], exhaustive: Callable[[Any], List[Any]],
                make_choice: Callable[[Any, Dict[str, Any]], Any]) -> List[Any]:
        space = self.settings.benchmark_space
        if space == "SAME":  # Inductor's own list, the table's hits first
            pool, picked = stock_list, None
            lut = self.lut()
            entry = lut.lookup(problem) if lut is not None else None
            hits = [Config.from_json(c) for c in (entry or {}).get("configs", [])]
            wanted = hits
        else:
            pool = exhaustive(template)
            selection = self.selector(problem).select(problem)
            wanted = selection.configs
            hits = [c.config for c in selection.candidates if c.source == "lut"]
            picked = wanted
        by_key: Dict[Tuple[int, ...], Any] = {}
        for ktc in pool:
            key = config_key(choice_kwargs(ktc))
            if key is not None:
                by_key.setdefault(key, ktc)
        if not pool:
            raise RuntimeError(f"Inductor gave no {template.uid} choices for {problem}")
        out: List[Any] = []
        seen = set()
        for c in wanted:
            key = _key_of(c)
            if key in seen:
                continue
            seen.add(key)
            ktc = by_key.get(key)
            if ktc is None:  # a table config outside the space: built on a choice of the same BLOCK_K
                base = next((t for k, t in by_key.items() if k[2] == c.block_k), pool[0])
                kwargs = dict(zip(_KEY_FIELDS, key))
                base_kwargs = choice_kwargs(base)
                if "EVEN_K" in base_kwargs and base_kwargs.get("BLOCK_K") != c.block_k:
                    kwargs["EVEN_K"] = bool(base_kwargs["EVEN_K"]) and problem.k % c.block_k == 0
                ktc = make_choice(base, kwargs)
            out.append(ktc)
        if picked is None:  # SAME: the stock list after the table's hits
            out += [t for t in stock_list if config_key(choice_kwargs(t)) not in seen]
        if not out:
            raise RuntimeError(f"no {template.uid} config chosen for {problem}")
        self.stats["lut_hits"] += len(hits)
        self.decisions.append({"problem": problem, "template": template.uid, "space_size": len(pool),
                               "chosen": len(out), "lut_hits": len(hits)})
        del self.decisions[:-64]
        return out

    # -- benchmarking -------------------------------------------------------------------------
    def benchmark(self, choices: Sequence[Any], bench: Callable[[Sequence[Any]], Dict[Any, float]]) -> Dict[Any, float]:
        """Inductor's benchmarking of one autotune list (bench: its own, choices -> times), run
        settings.benchmark_passes times when the list holds a Triton mm choice; each choice keeps
        its fastest time. A later pass that fails warns once and the first pass's times stand."""
        timings = bench(choices)
        passes = self.settings.benchmark_passes
        if passes <= 1 or not _has_triton_mm(choices):
            return timings
        try:
            best = dict(timings)
            for _ in range(passes - 1):
                again = bench(choices)
                for c, t in again.items():
                    if c in best and t < best[c]:
                        best[c] = t
            self.stats["rebenchmarked"] += 1
            return best
        except Exception as e:  # never fail a compile: the first pass's times stand
            self.warn_once("passes", f"benchmark pass failed, the first pass's times kept: {type(e).__name__}: {e}")
            return timings

    # -- recording ----------------------------------------------------------------------------
    def record_winner(self, timings: Dict[Any, float], op_name: str, problem_of: Callable[[], Optional[Problem]]) -> bool:
        """Adds the fastest Triton mm config of one autotune (timings in ms) to the record table."""
        if not self.settings.record:
            return False
        try:
            best: Optional[Tuple[float, Config]] = None
            for caller, ms in timings.items():
                name = str(getattr(caller, "name", "") or "")
                if name and not is_triton_mm_name(name):
                    continue
                cfg = config_of_description(str(getattr(caller, "description", "") or ""))
                t = float(ms)
                if cfg is None or not t > 0 or t == float("inf"):
                    continue
                if best is None or t < best[0]:
                    best = (t, cfg)
            if best is None:
                return False
            problem = problem_of()
            if problem is None:
                return False
            _record_config(self.settings.record, problem, best[1], measured_us=best[0] * 1000.0,
                           source="gemmsift.inductor record", note=f"{len(timings)} choices benchmarked")
            self.stats["recorded"] += 1
            return True
        except Exception as e:
            self.stats["record_failures"] += 1
            self.warn_once("record", f"cannot record into {self.settings.record}: {type(e).__name__}: {e}")
            return False


# ---------------------------------------------------------------------------------------------
# torch 2.11 glue

_state: Dict[str, Any] = {"hook": None, "prev_factory": None, "saver": False, "bench": None}


def _patch_benchmarking(select_algorithm: Any) -> bool:
    """Routes AlgorithmSelectorCache.benchmark_choices through Hook.benchmark (for more than one
    benchmark pass; undone by uninstall). False when this torch has no such classmethod."""
    if _state["bench"] is not None:
        return True
    cache = getattr(select_algorithm, "AlgorithmSelectorCache", None)
    original = getattr(cache, "__dict__", {}).get("benchmark_choices")
    if not isinstance(original, classmethod):
        return False
    inner = original.__func__

    def benchmark_choices(cls, choices, *args, **kwargs):
        hook = installed()

        def bench(cs):
            if hook is None or hook.settings.benchmark_timer != "gemmsift" or not _has_triton_mm(cs):
                return inner(cls, cs, *args, **kwargs)
            with swapped_timer(hook, _benchmarkers(), _gemmsift_timed, first=_first_call, ban=_ban_check()):
                return inner(cls, cs, *args, **kwargs)
        return hook.benchmark(choices, bench) if hook is not None else bench(choices)

    cache.benchmark_choices = classmethod(benchmark_choices)
    _state["bench"] = (cache, original)
    return True


def _has_triton_mm(choices: Sequence[Any]) -> bool:
    return any(is_triton_mm_name(str(getattr(c, "name", "") or "")) for c in choices)


@contextlib.contextmanager
def swapped_timer(hook: Hook, benchmarkers: Sequence[Any], timed: Callable[[Callable[[], Any]], float],
                  first: Optional[Callable[[Callable[[], Any]], Any]] = None,
                  ban: Optional[Callable[[], Any]] = None):
    """While open, each benchmarker's benchmark_gpu(fn) (Inductor's: fn -> milliseconds, the
    minimum) returns timed(fn) instead. As in Inductor's: ban() first unless the call says
    is_vetted_benchmarking (torch's deterministic mode refuses benchmarking there), then first(fn),
    the one untimed call; what these raise goes to Inductor as its own would (a choice that cannot
    launch is Inductor's to handle, not a failure of the timer). Calls asking for something else (a
    return mode other than the minimum, quantiles, more positional arguments) and calls where
    timed fails (warned once) go to the benchmarker's own. Closing puts the benchmarkers back.
    Entries from several threads at once share the first one's swap, which the last to close
    undoes (a per-thread undo could leave a stale swap in place)."""
    with _swap_lock:
        if _swap["depth"] == 0:
            _swap["undo"] = _swap_in(hook, benchmarkers, timed, first, ban)
        _swap["depth"] += 1
    try:
        yield
    finally:
        with _swap_lock:
            _swap["depth"] -= 1
            if _swap["depth"] == 0:
                for b, own in reversed(_swap["undo"]):
                    if own is None:
                        del b.benchmark_gpu
                    else:
                        b.benchmark_gpu = own
                _swap["undo"] = []


_swap_lock = threading.Lock()
_swap: Dict[str, Any] = {"depth": 0, "undo": []}


def _swap_in(hook: Hook, benchmarkers: Sequence[Any], timed: Callable[[Callable[[], Any]], float],
             first: Optional[Callable[[Callable[[], Any]], Any]], ban: Optional[Callable[[], Any]]) -> List[Any]:
    """swapped_timer's swap: returns (benchmarker, its own instance attribute or None) to undo."""
    undo = []
    for b in benchmarkers:
        own = b.benchmark_gpu
        shadowed = "benchmark_gpu" in vars(b)  # an instance attribute, not the class's method

        def ours(fn, *args, _own=own, **kwargs):
            if args or kwargs.get("return_mode", "min") != "min" or kwargs.get("quantiles") is not None:
                return _own(fn, *args, **kwargs)
            if ban is not None and not kwargs.get("is_vetted_benchmarking", False):
                ban()
            if first is not None:
                first(fn)
            try:
                ms = float(timed(fn))
            except Exception as e:  # never fail a compile: Inductor's own timing stands
                hook.warn_once("timer", f"gemmsift's timer failed, Inductor's times this choice: {type(e).__name__}: {e}")
                return _own(fn, *args, **kwargs)
            hook.stats["gemmsift_timed"] += 1
            return ms
        b.benchmark_gpu = ours
        undo.append((b, own if shadowed else None))
    return undo


def _benchmarkers() -> List[Any]:
    """The benchmarker objects Inductor's autotuning may call. torch 2.11 times a choice through
    BenchmarkRequest.do_bench -> benchmarker.benchmark -> benchmark_gpu, with the one instance of
    torch._inductor.runtime.benchmarking that autotune_process imports (checked on the GPU
    machine: docs/results/torch_2.11_autotune_benchmarking_sources.txt)."""
    import importlib
    found: List[Any] = []
    for module in ("torch._inductor.runtime.benchmarking", "torch._inductor.select_algorithm",
                   "torch._inductor.autotune_process"):
        try:
            b = getattr(importlib.import_module(module), "benchmarker", None)
        except ImportError:
            continue
        if b is not None and callable(getattr(b, "benchmark_gpu", None)) and all(b is not x for x in found):
            found.append(b)
    return found


def _gemmsift_timed(fn: Callable[[], Any]) -> float:
    """fn's time in milliseconds by gemmsift's timer (gemmsift.collect.timing.autotune_timer, set
    as Inductor's autotuning: 5 estimation launches, then up to 100 within 25 ms, the minimum; the
    L2 flushed before each launch, then a GPU spin so the launch's CPU time is not timed)."""
    import torch
    from .collect.timing import autotune_timer
    _, best_us, _, _ = autotune_timer(torch.cuda.current_device()).time(fn)
    return best_us / 1000.0


def _first_call(fn: Callable[[], Any]) -> None:
    """As Inductor's benchmark_gpu begins (gemmsift.collect.timing.first_call)."""
    from .collect.timing import first_call
    first_call(fn)


def _ban_check() -> Optional[Callable[[], Any]]:
    """torch's may_ban_benchmarking (raises where its deterministic mode refuses benchmarking), if any."""
    try:
        from torch._inductor.runtime.benchmarking import may_ban_benchmarking
        return may_ban_benchmarking
    except ImportError:
        return None


def _unpatch_benchmarking() -> None:
    if _state["bench"] is not None:
        cache, original = _state["bench"]
        cache.benchmark_choices = original
        _state["bench"] = None


class _ChoicesFactory:
    """torch.config.inductor_choices_class while installed: makes the choices handler of a new
    thread. Inductor deep-copies and hashes its config, so this holds only the settings' uuid (no
    locks, no handles), and two settings give two different config values."""

    def __init__(self, uuid: str):
        self.uuid = uuid

    def __call__(self):
        return _choices_class()(installed())

    def __eq__(self, other):
        return isinstance(other, _ChoicesFactory) and other.uuid == self.uuid

    def __hash__(self):
        return hash(self.uuid)

    def __repr__(self):
        return f"gemmsift.inductor._ChoicesFactory({self.uuid!r})"


_install_lock = threading.Lock()


def installed() -> Optional[Hook]:
    """The active Hook, or None."""
    return _state["hook"]


def _hint_fn():
    from torch._inductor.virtualized import V

    def hint(expr):
        sizevars = V.graph.sizevars
        for name in ("optimization_hint", "size_hint"):
            fn = getattr(sizevars, name, None)
            if fn is None:
                continue
            try:
                return int(fn(expr, fallback=8192))
            except TypeError:
                return int(fn(expr))
        raise RuntimeError("cannot read a size hint from Inductor")
    return hint


def _device_name(node: Any) -> str:
    import torch
    try:
        dev = node.get_device()
        if dev is not None and dev.type == "cuda":
            return torch.cuda.get_device_name(dev)
    except Exception:
        pass
    return ""


@functools.lru_cache(maxsize=None)
def _choices_class():
    """The InductorChoices subclass (made on first use, so this module imports without torch)."""
    from torch._inductor import config as ic
    from torch._inductor.choices import InductorChoices

    class GemmsiftChoices(InductorChoices):
        def __init__(self, hook: Optional[Hook] = None):
            super().__init__()
            self._gemmsift = hook

        def uuid(self):  # for the cache keys of torch versions that key on the choices handler
            hook = self._gemmsift or installed()
            return "gemmsift:" + (hook.settings.uuid() if hook else "off")

        def _finalize_template_configs(self, template_choices, kernel_inputs, templates, op_name,
                                       kwarg_overrides=None):
            parent = super()._finalize_template_configs
            hook = self._gemmsift or installed()
            if hook is None:
                return parent(template_choices, kernel_inputs, templates, op_name, kwarg_overrides)
            overrides = kwarg_overrides or {}

            def stock(choices):
                return parent(choices, kernel_inputs, templates, op_name, kwarg_overrides)

            def problem_of():
                nodes = kernel_inputs.nodes()
                return problem_of_nodes(nodes, op_name, _hint_fn(), _device_name(nodes[0]),
                                        getattr(kernel_inputs, "_mat1_idx", -2),
                                        getattr(kernel_inputs, "_mat2_idx", -1))

            def exhaustive(template):
                with ic.patch(max_autotune_gemm_search_space="EXHAUSTIVE"):
                    return list(self.get_ktc(kernel_inputs, template, op_name, overrides.get(template.uid, {})))

            return hook.finalize(template_choices, templates, op_name, problem_of, stock, exhaustive, _make_choice)

    return GemmsiftChoices


def _make_choice(base: Any, kwargs: Dict[str, Any]) -> Any:
    from torch._inductor.kernel_template_choice import KernelTemplateChoice
    params_cls = None
    for module in ("torch._inductor.template_heuristics.params", "torch._inductor.kernel_params.params",
                   "torch._inductor.heuristics.template.params"):
        try:
            params_cls = getattr(__import__(module, fromlist=["DictKernelTemplateParams"]), "DictKernelTemplateParams")
            break
        except (ImportError, AttributeError):
            continue
    if params_cls is None:
        raise RuntimeError("this torch has no DictKernelTemplateParams: cannot add a table config outside the space")
    merged = {**choice_kwargs(base), **kwargs}
    return KernelTemplateChoice(template=base.template, params=params_cls(merged),
                                extra_kwargs=base.extra_kwargs, layout=base.layout, inputs=base.inputs)


def _feedback_saver(timings, name, input_nodes, *rest):
    hook = installed()
    if hook is None or not hook.settings.record:
        return
    try:
        def problem_of():
            return problem_of_nodes(list(input_nodes), str(name), _hint_fn(), _device_name(input_nodes[0]))
        hook.record_winner(dict(timings), str(name), problem_of)
    except Exception as e:  # never fail a compile
        hook.warn_once("record", f"cannot record: {type(e).__name__}: {e}")


def _current_device() -> str:
    try:
        import torch
        return torch.cuda.get_device_name() if torch.cuda.is_available() else ""
    except Exception:
        return ""


def install(benchmark_space: Optional[BenchmarkSpace] = None, lut: Optional[str] = None,
            model: Optional[str] = None, record: Optional[str] = None, benchmark_passes: Optional[int] = None,
            benchmark_timer: Optional[str] = None, model_mismatch: Optional[str] = None,
            anchors: Optional[int] = None, off16: Optional[str] = None) -> Hook:
    """Puts gemmsift in front of Inductor's Triton mm autotuning (until uninstall()).

    benchmark_space: k (an int), "DEFAULT" (as many as Inductor's DEFAULT list has), "fast" (= 1),
    or "SAME" (Inductor's own space; only the table's hits are added). lut: a gemmsift lookup table
    whose hits are always benchmarked. model: a model spec or file ("auto": the shipped model for the
    device and dtype; with none, or with a model of another GPU or Triton version, Inductor keeps
    its stock configs and one warning says so). record: a lookup table file each autotune's
    fastest Triton config is added to. benchmark_passes: how many times Inductor benchmarks a list
    holding Triton mm choices, each keeping its fastest time (default 1: Inductor's own single
    pass). benchmark_timer: "gemmsift" (default) or "inductor": who times the choices of a list
    holding Triton mm choices (gemmsift's timer does not time the CPU's launch; a failure of it
    warns once and Inductor's timer takes over; "inductor" with 1 pass leaves Inductor's
    benchmarking unwrapped). model_mismatch: "refuse" (default) or "warn": a model trained on
    another GPU or Triton version is then used, with a warning. anchors: of the k configs, this
    many (at most k - 1) are the DEFAULT-list configs the model ranks highest (default 0). off16:
    "padded" (default), "learned" or "analytical": how a learned model trained on the arguments
    kernel's data ranks a problem with a leading stride that is even but not a multiple of 16 (docs/inductor.md).
    Unset arguments come from
    GEMMSIFT_* variables. A bad
    argument raises ValueError; a bad variable, an unreadable table or model warns and leaves
    Inductor's stock behaviour."""
    arguments = dict(benchmark_space=benchmark_space, lut=lut, model=model, record=record,
                     benchmark_passes=benchmark_passes, benchmark_timer=benchmark_timer,
                     model_mismatch=model_mismatch, anchors=anchors, off16=off16)
    resolve_settings(**arguments, environ={})  # a bad argument raises here
    try:
        settings = resolve_settings(**arguments)
    except ValueError as e:  # only the environment is left to be bad
        warnings.warn(f"gemmsift.inductor: {e}; not installed", RuntimeWarning, stacklevel=2)
        return Hook(Settings())
    from torch._inductor import config as ic
    from torch._inductor import select_algorithm
    from torch._inductor.virtualized import V

    with _install_lock:
        if _state["hook"] is not None:
            _uninstall_locked()
        hook = Hook(settings)
        hook.check(_current_device())
        cls = _choices_class()
        _state["prev_factory"] = getattr(ic, "inductor_choices_class", None)
        if hasattr(ic, "inductor_choices_class"):
            ic.inductor_choices_class = _ChoicesFactory(settings.uuid())
        V.set_choices_handler(cls(hook))
        if not _state["saver"]:
            select_algorithm.add_feedback_saver(_feedback_saver)
            _state["saver"] = True
        if (settings.benchmark_passes > 1 or settings.benchmark_timer != "inductor") and not _patch_benchmarking(select_algorithm):
            hook.warn_once("passes", "this torch has no AlgorithmSelectorCache.benchmark_choices to wrap: "
                                     "Inductor benchmarks each list once, with its own timer")
        _state["hook"] = hook
    return hook


def _uninstall_locked() -> None:
    from torch._inductor import config as ic
    from torch._inductor.choices import InductorChoices
    from torch._inductor.virtualized import V

    prev = _state["prev_factory"]
    if hasattr(ic, "inductor_choices_class"):
        ic.inductor_choices_class = prev
    V.set_choices_handler(prev() if prev is not None else InductorChoices())
    _unpatch_benchmarking()
    _state["hook"] = None
    _state["prev_factory"] = None


def uninstall() -> None:
    """Gives Inductor its stock behaviour back (the previous choices class, if any)."""
    with _install_lock:
        if _state["hook"] is not None:
            _uninstall_locked()


def main(argv: Optional[List[str]] = None) -> int:
    """python -m gemmsift.inductor PROGRAM.py [ARGS]: runs PROGRAM with gemmsift installed from the
    GEMMSIFT_* environment variables."""
    import runpy
    import sys
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(main.__doc__.strip())
        print("\n" + "\n".join(f"  {var}" for var in ENV.values()))
        return 0 if args else 2
    install()
    sys.argv = args
    if args[0] == "-m" and len(args) > 1:
        sys.argv = args[1:]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(args[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    import sys
    from gemmsift.inductor import main as _main  # the package's module, not this __main__ copy
    sys.exit(_main())
