import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
os.environ.setdefault("GEMMSIFT_LIBRARY", str(ROOT / "build" / "libgemmsift.so"))
