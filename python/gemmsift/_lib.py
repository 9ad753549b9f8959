"""Finding and loading libgemmsift.so through ctypes, with every C function's prototype."""

import ctypes
import ctypes.util
import os
import pathlib

from .errors import LibraryError, error_for

__version__ = "0.1.0"
ABI_VERSION = 1


class CConfig(ctypes.Structure):
    """gs_config from gemmsift/c_api.h."""

    _fields_ = [
        ("template_id", ctypes.c_int32),
        ("block_m", ctypes.c_int32),
        ("block_n", ctypes.c_int32),
        ("block_k", ctypes.c_int32),
        ("group_m", ctypes.c_int32),
        ("num_stages", ctypes.c_int32),
        ("num_warps", ctypes.c_int32),
    ]


def _candidates():
    """Paths to try, in order: $GEMMSIFT_LIBRARY, beside this package, the repository's build
    folders, then the system's library path."""
    paths = []
    env = os.environ.get("GEMMSIFT_LIBRARY")
    if env:
        paths.append(env)
    here = pathlib.Path(__file__).resolve().parent
    paths.append(str(here / "libgemmsift.so"))
    repo = here.parent.parent
    for build in ("build", "build-release", "build-asan"):
        paths.append(str(repo / build / "libgemmsift.so"))
    found = ctypes.util.find_library("gemmsift")
    paths.append(found or "libgemmsift.so.0")
    return paths


def _prototype(lib):
    c_char_p, c_int, c_size_t = ctypes.c_char_p, ctypes.c_int, ctypes.c_size_t
    out_str = ctypes.POINTER(ctypes.c_void_p)
    model_p = ctypes.c_void_p
    protos = {
        "gs_last_error": (c_char_p, []),
        "gs_last_error_code": (c_int, []),
        "gs_version": (c_int, [ctypes.POINTER(c_char_p), ctypes.POINTER(c_int)]),
        "gs_free_string": (c_int, [ctypes.c_void_p]),
        "gs_space": (c_int, [c_char_p, c_char_p, out_str]),
        "gs_space_configs": (c_int, [c_char_p, c_char_p, ctypes.POINTER(CConfig), c_size_t,
                                     ctypes.POINTER(c_size_t)]),
        "gs_model_create": (c_int, [c_char_p, c_char_p, ctypes.POINTER(model_p)]),
        "gs_model_free": (c_int, [model_p]),
        "gs_model_info": (c_int, [model_p, out_str]),
        "gs_model_estimate": (c_int, [model_p, c_char_p, ctypes.POINTER(CConfig), c_size_t,
                                      ctypes.POINTER(ctypes.c_double)]),
        "gs_model_drift": (c_int, [model_p, c_char_p, out_str]),
        "gs_select": (c_int, [model_p, c_char_p, c_char_p, out_str]),
        "gs_lut_load": (c_int, [c_char_p, c_char_p, ctypes.POINTER(ctypes.c_void_p), out_str]),
        "gs_lut_free": (c_int, [ctypes.c_void_p]),
        "gs_lut_lookup": (c_int, [ctypes.c_void_p, c_char_p, out_str]),
        "gs_lut_record": (c_int, [c_char_p, c_char_p, c_char_p, c_char_p, ctypes.POINTER(c_int)]),
        "gs_selector_create": (c_int, [model_p, ctypes.c_void_p, c_char_p,
                                       ctypes.POINTER(ctypes.c_void_p)]),
        "gs_selector_free": (c_int, [ctypes.c_void_p]),
        "gs_selector_select": (c_int, [ctypes.c_void_p, c_char_p, out_str]),
    }
    for name, (restype, argtypes) in protos.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(f"{path} (no such file)")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            tried.append(f"{path} ({e})")
            continue
        try:
            _prototype(lib)
        except AttributeError as e:
            tried.append(f"{path} (not libgemmsift: {e})")
            continue
        version = ctypes.c_char_p()
        abi = ctypes.c_int()
        if lib.gs_version(ctypes.byref(version), ctypes.byref(abi)) != 0:
            tried.append(f"{path} (gs_version failed)")
            continue
        lib_version = version.value.decode()
        if abi.value != ABI_VERSION or lib_version.split(".")[:2] != __version__.split(".")[:2]:
            raise LibraryError(
                f"{path} is libgemmsift {lib_version} (ABI {abi.value}); this package is "
                f"{__version__} (ABI {ABI_VERSION}): rebuild the library or set GEMMSIFT_LIBRARY")
        return lib, path
    raise LibraryError("could not load libgemmsift.so; tried:\n  " + "\n  ".join(tried)
                       + "\nbuild it (cmake -S . -B build && cmake --build build) or set GEMMSIFT_LIBRARY")


_LIB = None
_PATH = None


def lib():
    """The loaded library (loaded on first use)."""
    global _LIB, _PATH
    if _LIB is None:
        _LIB, _PATH = _load()
    return _LIB


def library_path():
    lib()
    return _PATH


def check(status):
    """Raise the GemmsiftError for a non-zero C status."""
    if status != 0:
        message = lib().gs_last_error().decode(errors="replace")
        raise error_for(status, message)


def take_string(ptr):
    """Copy a char* the library allocated, then free it."""
    try:
        return ctypes.cast(ptr, ctypes.c_char_p).value.decode()
    finally:
        lib().gs_free_string(ptr)
