"""gemmsift.collect: the GPU timing harness (needs torch and triton; runs on the GPU machine).

    python -m gemmsift.collect --shapes data/shapes/test.txt --dtype bf16 --layout NT --out DIR

enumerates each problem's pruned EXHAUSTIVE space through libgemmsift's C API, compiles the configs
in parallel with a persistent Triton cache, times each (problem, config) as Inductor's autotuner
does, checks each config's output once, and writes one CSV row per measurement (docs/collection.md).
"""
