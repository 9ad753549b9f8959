"""A Triton matmul equivalent to Inductor's `triton_mm` template (torch 2.11,
torch/_inductor/kernel/templates/triton_mm.py.jinja): same GROUP_M program swizzle, the same
contiguity hints, EVEN_K masking, fp32 accumulation, ALLOW_TF32 for fp32.

Inductor bakes M, N, K and the strides into each kernel as literals. `triton_mm` takes them as
arguments, which Triton specializes on divisibility by 16 (one compiled kernel serves many
problems); `literal_sizes=True` runs `triton_mm_literal_sizes()`, the same source with M, N, K and
the six strides as constexprs (one compiled kernel per problem, as Inductor's). Measured on an H200
(docs/collection.md, tools/gpu/kernel_literal_probe.py): literal sizes make the large-tile configs
of large problems up to 15-20% faster and match Inductor's kernel; literal strides change nothing
where every stride is a multiple of 16, but where one is not (K = 1500, N = 3000; K = 1000), the
arguments kernel cannot prove any alignment, loads element by element and spills, and runs up to
23 times as long as Inductor's kernel, which the all-literal kernel matches within 2.5% (session 16).
The template's static conditions (the contiguity hints, EVEN_K) are computed on the host, as
Inductor computes them at code generation, and passed as constexprs.
"""

import hashlib
import importlib.util
import inspect
import os
import tempfile

import torch
import triton
import triton.language as tl


@triton.jit
def triton_mm(A, B, C, M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
              BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
              GROUP_M: tl.constexpr, EVEN_K: tl.constexpr, ALLOW_TF32: tl.constexpr,
              A_HINT: tl.constexpr, B_HINT: tl.constexpr, ACC_TYPE: tl.constexpr):
    pid = tl.program_id(0)
    grid_m = (M + BLOCK_M - 1) // BLOCK_M
    grid_n = (N + BLOCK_N - 1) // BLOCK_N

    # re-order program ID for better L2 performance
    width = GROUP_M * grid_n
    group_id = pid // width
    group_size = min(grid_m - group_id * GROUP_M, GROUP_M)
    pid_m = group_id * GROUP_M + (pid % group_size)
    pid_n = (pid % width) // (group_size)
    tl.assume(pid_m >= 0)
    tl.assume(pid_n >= 0)

    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    if A_HINT:
        offs_a_m = tl.max_contiguous(tl.multiple_of(rm % M, BLOCK_M), BLOCK_M)
    else:
        offs_a_m = rm % M
    if B_HINT:
        offs_b_n = tl.max_contiguous(tl.multiple_of(rn % N, BLOCK_N), BLOCK_N)
    else:
        offs_b_n = rn % N
    offs_k = tl.arange(0, BLOCK_K)
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=ACC_TYPE)

    for k_idx in range(0, tl.cdiv(K, BLOCK_K)):
        a_k_idx_vals = offs_k[None, :] + (k_idx * BLOCK_K)
        b_k_idx_vals = offs_k[:, None] + (k_idx * BLOCK_K)
        a_ptrs = A + offs_a_m[:, None] * stride_am + a_k_idx_vals * stride_ak
        b_ptrs = B + b_k_idx_vals * stride_bk + offs_b_n[None, :] * stride_bn
        if EVEN_K:
            a = tl.load(a_ptrs)
            b = tl.load(b_ptrs)
        else:
            a = tl.load(a_ptrs, mask=offs_k[None, :] < (K - k_idx * BLOCK_K), other=0.)
            b = tl.load(b_ptrs, mask=offs_k[:, None] < (K - k_idx * BLOCK_K), other=0.)
        acc += tl.dot(a, b, allow_tf32=ALLOW_TF32, out_dtype=ACC_TYPE)

    # rematerialize rm and rn to save registers
    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    idx_m = rm[:, None]
    idx_n = rn[None, :]
    mask = (idx_m < M) & (idx_n < N)
    tl.store(C + idx_m * stride_cm + idx_n * stride_cn, acc.to(C.dtype.element_ty), mask=mask)


TORCH_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}

_SIGNATURE = "M, N, K, stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,"
_derived = {}


def triton_mm_with_literals(names):
    """The JIT function of triton_mm's own source with the integer arguments `names` (of M, N, K
    and the six strides) made constexprs, so that Triton compiles their values in as Inductor does
    (one source for every variant). Triton reads a kernel's source from its file, so the derived
    source is written once to a file named by its hash in the temporary folder (the same name in
    every process, the compile workers' and the timing processes')."""
    names = frozenset(names)
    if names not in _derived:
        params = _SIGNATURE.rstrip(",").split(", ")
        src = inspect.getsource(triton_mm.fn)
        if names - set(params) or src.count(_SIGNATURE) != 1:
            raise RuntimeError(f"cannot make {sorted(names)} constexprs in triton_mm's signature")
        signature = ", ".join(f"{p}: tl.constexpr" if p in names else p for p in params) + ","
        src = "import triton\nimport triton.language as tl\n\n\n" + src.replace(_SIGNATURE, signature)
        digest = hashlib.sha256(src.encode()).hexdigest()[:16]
        path = os.path.join(tempfile.gettempdir(), f"gemmsift_triton_mm_{digest}.py")
        if not os.path.exists(path):
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                f.write(src)
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(f"gemmsift_triton_mm_{digest}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _derived[names] = module.triton_mm
    return _derived[names]


LITERALS = ("M", "N", "K", "stride_am", "stride_ak", "stride_bk", "stride_bn", "stride_cm", "stride_cn")


def triton_mm_literal_sizes():
    """triton_mm with M, N, K and the strides compiled in, as Inductor's kernel:
    `launch(..., literal_sizes=True)`'s kernel. (Before session 16 it compiled in M, N and K only;
    the one dataset measured with it, data/literal/h200_bf16_NT_test_llm, has every stride a
    multiple of 16, where the two kernels are the same.)"""
    return triton_mm_with_literals(LITERALS)


def _kernel(literal_sizes):
    return triton_mm_literal_sizes() if literal_sizes else triton_mm


def operands(m, n, k, dtype, layout, device="cuda", seed=0):
    """Random normal A [M,K] and B [K,N] with the layout's storage (T = the transpose of a
    row-major tensor, as nn.Linear's weight), and an output C [M,N]."""
    g = torch.Generator(device=device).manual_seed(seed)
    dt = TORCH_DTYPES[dtype]
    a = (torch.randn(k, m, device=device, generator=g, dtype=dt).t() if layout[0] == "T"
         else torch.randn(m, k, device=device, generator=g, dtype=dt))
    b = (torch.randn(n, k, device=device, generator=g, dtype=dt).t() if layout[1] == "T"
         else torch.randn(k, n, device=device, generator=g, dtype=dt))
    c = torch.empty(m, n, device=device, dtype=dt)
    return a, b, c


def static_args(m, n, k, a_strides, b_strides, config):
    """The constexprs Inductor fixes at code generation for this problem and config."""
    bm, bn, bk = config.block_m, config.block_n, config.block_k
    sam, sak = a_strides
    sbk, sbn = b_strides
    a_hint = ((sam == 1 and sak == m) or (sam == k and sak == 1)) and (m >= bm and k > 1)
    b_hint = ((sbk == 1 and sbn == k) or (sbk == n and sbn == 1)) and (n >= bn and k > 1)
    return dict(BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk, GROUP_M=config.group_m,
                EVEN_K=(k % bk == 0), A_HINT=bool(a_hint), B_HINT=bool(b_hint),
                num_stages=config.num_stages, num_warps=config.num_warps)


def launch(a, b, c, config, allow_tf32=False, literal_sizes=False):
    """Runs C = A @ B with one config (literal_sizes: M, N, K and the strides compiled in, as Inductor's)."""
    m, k = a.shape
    n = b.shape[1]
    kw = static_args(m, n, k, a.stride(), b.stride(), config)
    grid = (triton.cdiv(m, config.block_m) * triton.cdiv(n, config.block_n),)
    return _kernel(literal_sizes)[grid](a, b, c, m, n, k, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                                        c.stride(0), c.stride(1), ALLOW_TF32=allow_tf32, ACC_TYPE=tl.float32, **kw)


def warmup(m, n, k, dtype, layout, config, allow_tf32=False, literal_sizes=False):
    """Compiles (without launching or loading) the variant `launch` would use for this problem:
    mock tensors stand in for the operands, with the same dtype and 16-byte alignment."""
    dt = TORCH_DTYPES[dtype]
    a_strides = (1, m) if layout[0] == "T" else (k, 1)
    b_strides = (1, k) if layout[1] == "T" else (n, 1)
    kw = static_args(m, n, k, a_strides, b_strides, config)
    _kernel(literal_sizes).warmup(dt, dt, dt, m, n, k, a_strides[0], a_strides[1], b_strides[0], b_strides[1],
                                  n, 1, grid=(1,), ALLOW_TF32=allow_tf32, ACC_TYPE=tl.float32, **kw)


def specialization_key(m, n, k, dtype, layout, config, literal_sizes=False):
    """What decides which compiled variant a (problem, config) needs: the config, the dtype, the
    constexprs above, and how Triton specializes the integer arguments (== 1, divisible by 16,
    32 or 64 bits); with literal sizes, M, N, K and the strides themselves."""
    a_strides = (1, m) if layout[0] == "T" else (k, 1)
    b_strides = (1, k) if layout[1] == "T" else (n, 1)
    kw = static_args(m, n, k, a_strides, b_strides, config)
    ints = (m, n, k) + a_strides + b_strides + (n, 1)
    spec = tuple((v == 1, v % 16 == 0, v >= 2**31) for v in ints)
    if literal_sizes:
        return (dtype, tuple(sorted(kw.items())), spec, ("literal", m, n, k) + a_strides + b_strides + (n, 1))
    return (dtype, tuple(sorted(kw.items())), spec)
