"""Perceptual quality of a marked file against its original: SNR, PESQ (wide band at 16 kHz,
narrow band at 8 kHz; other rates are resampled by sox; files over 30 s are measured on their
middle 20 s) and STOI.
Usage: python watermark_quality.py ORIGINAL MARKED   (prints one JSON object)"""
import json
import subprocess
import sys

import numpy as np
from pesq import pesq
from pystoi import stoi


def load(path, rate):
    raw = subprocess.run(["sox", path, "-t", "f32", "-c", "1", "-", "rate", "-v", str(rate)],
                         check=True, capture_output=True).stdout
    return np.frombuffer(raw, "<f4").astype(np.float64)


def main():
    original, marked = sys.argv[1], sys.argv[2]
    native = int(subprocess.run(["soxi", "-r", original], check=True, capture_output=True, text=True).stdout)
    a, b = load(original, native), load(marked, native)
    n = min(len(a), len(b))
    snr = 10 * np.log10(np.sum(a[:n] ** 2) / max(1e-20, np.sum((a[:n] - b[:n]) ** 2)))
    out = {"snr_db": round(float(snr), 2)}
    # PESQ is defined for short recordings (and its reference code crashes on minutes of audio):
    # long files are measured on their middle 20 s.
    def middle(x, rate):
        if len(x) <= 30 * rate:
            return x
        start = (len(x) - 20 * rate) // 2
        return x[start:start + 20 * rate]
    a16, b16 = middle(load(original, 16000), 16000), middle(load(marked, 16000), 16000)
    n = min(len(a16), len(b16))
    out["pesq_wb"] = round(float(pesq(16000, a16[:n], b16[:n], "wb")), 3)
    a8, b8 = middle(load(original, 8000), 8000), middle(load(marked, 8000), 8000)
    m = min(len(a8), len(b8))
    out["pesq_nb"] = round(float(pesq(8000, a8[:m], b8[:m], "nb")), 3)
    out["stoi"] = round(float(stoi(a16[:n], b16[:n], 16000, extended=False)), 4)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
