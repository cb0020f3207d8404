"""Shared helpers: deterministic randomness, atomic files, WAV I/O, subprocesses, progress, parallel maps."""
import hashlib
import os
import subprocess
import sys
import tempfile
import time
import wave
from concurrent.futures import ThreadPoolExecutor

import numpy as np

CORPORA_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(CORPORA_DIR)


def stable_hash(*parts) -> int:
    """A 64-bit hash of the parts that is the same on every machine and run (unlike hash())."""
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "little")


def rng_for(seed, *parts) -> np.random.Generator:
    """A numpy generator seeded from the corpus seed and an item's identity."""
    return np.random.default_rng(stable_hash(seed, *parts))


def _atomic(path, suffix, write):
    """Calls write(tmp_path) on a temporary file beside `path`, then renames it into place (0644)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path, data: bytes):
    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)
    _atomic(path, "", write)


def atomic_write_text(path, text: str):
    atomic_write_bytes(path, text.encode("utf-8"))


def write_wav(path, samples: np.ndarray, rate: int):
    """Writes float samples (frames × channels or mono) as 16-bit PCM WAV, atomically."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")

    def write(tmp):
        with wave.open(tmp, "wb") as w:
            w.setnchannels(x.shape[1])
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm.tobytes())
    _atomic(path, ".wav", write)


def read_wav(path):
    """Reads a 16-bit PCM WAV as float64 (frames × channels), rate."""
    with wave.open(path, "rb") as w:
        rate, ch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"{path}: expected 16-bit PCM, found {8 * width}-bit")
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    return x.reshape(-1, ch), rate


def sox_read(path, rate, effects=(), channels=1):
    """Decodes any audio file with sox into float64 samples at `rate` (mono unless asked)."""
    cmd = ["sox", "-V1", path, "-t", "f32", "-e", "floating-point", "-c", str(channels), "-"]
    if channels == 1:
        cmd += ["remix", "-"]
    cmd += ["rate", "-v", str(rate), *effects]
    out = subprocess.run(cmd, check=True, capture_output=True).stdout
    x = np.frombuffer(out, dtype="<f4").astype(np.float64)
    return x.reshape(-1, channels) if channels > 1 else x


def duration_of(path) -> float:
    out = subprocess.run(["soxi", "-D", path], check=True, capture_output=True, text=True).stdout
    return float(out.strip())


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


class Progress:
    """A one-line progress display on stderr (rate and ETA); plain lines when not a terminal."""

    def __init__(self, label, total, quiet=False):
        self.label, self.total, self.done = label, max(1, total), 0
        self.start = time.time()
        self.tty = sys.stderr.isatty()
        self.quiet = quiet
        self.last = 0.0

    def step(self, n=1):
        self.done += n
        now = time.time()
        if self.quiet or (now - self.last < (0.2 if self.tty else 10) and self.done < self.total):
            return
        self.last = now
        rate = self.done / max(1e-9, now - self.start)
        eta = (self.total - self.done) / max(1e-9, rate)
        line = f"{self.label}: {self.done}/{self.total} ({100 * self.done / self.total:.0f}%) {rate:.1f}/s ETA {eta:.0f}s"
        sys.stderr.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        if self.tty and self.done >= self.total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def parallel_map(fn, items, jobs, label, quiet=False):
    """Applies fn to every item with `jobs` threads (the work is in subprocesses and numpy),
    showing progress; returns results in input order. A failing item raises after all finish."""
    progress = Progress(label, len(items), quiet)
    results = [None] * len(items)
    errors = []

    def work(i):
        try:
            results[i] = fn(items[i])
        except Exception as e:  # recorded and re-raised once the pool drains
            errors.append((items[i], e))
        progress.step()

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(work, range(len(items))))
    if errors:
        item, e = errors[0]
        name = item.get("id") if isinstance(item, dict) else (item[0] if isinstance(item, tuple) else item)
        raise RuntimeError(f"{label}: {len(errors)} item(s) failed; first: {name!r}: {e}")
    return results


def process_map(fn, items, jobs, label, quiet=False):
    """Like parallel_map, in `jobs` worker processes (for Python-level work that holds the GIL, e.g. vocoders);
    `fn` must be a module-level function. Returns results in input order."""
    import multiprocessing
    progress = Progress(label, len(items), quiet)
    results = []
    with multiprocessing.get_context("fork").Pool(max(1, jobs)) as pool:
        for r in pool.imap(fn, items, chunksize=4):
            results.append(r)
            progress.step()
    return results
