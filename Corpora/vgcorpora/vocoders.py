"""Copy-synthesis: a real person's recording analysed and resynthesised by a vocoder or a low-rate speech codec.

The result keeps the speaker, the words, the language and the timing of the bona fide recording; only the vocoder's
traces separate the two. Every function takes and returns float64 samples at 16 kHz (mono) and is deterministic.

| engine | family | what it does |
|---|---|---|
| `world` | vocoder-copy-synthesis | WORLD (PyPI `pyworld-prebuilt`): DIO + StoneMask F0, CheapTrick envelope, D4C aperiodicity → synthesis |
| `sptk-mlsa` | vocoder-copy-synthesis | SPTK 3.9 (Debian `sptk`): RAPT pitch, 24th-order mel-cepstrum (α 0.42) → pulse/noise excitation → MLSA filter |
| `griffin-lim` | vocoder-copy-synthesis | 80-band mel magnitude (1024-point STFT, hop 256) → pseudo-inverse → 32 fast Griffin-Lim iterations |
| `praat-psola` | vocoder-copy-synthesis | Praat (Debian `praat`): pitch-synchronous overlap-add resynthesis of a Manipulation |
| `codec2` | codec | Codec 2 (Debian `codec2`) at 700C, 1300 or 450 bit/s, 8 kHz |
"""
import os
import subprocess
import tempfile

import numpy as np

RATE = 16000
SPTK_BIN = "/usr/libexec/sptk/bin"
VOCODERS = ("world", "sptk-mlsa", "griffin-lim", "praat-psola", "codec2")
FAMILY = {"world": "vocoder-copy-synthesis", "sptk-mlsa": "vocoder-copy-synthesis", "griffin-lim": "vocoder-copy-synthesis",
          "praat-psola": "vocoder-copy-synthesis", "codec2": "codec"}
PACKAGE = {"world": "PyPI pyworld-prebuilt 0.3.6.post1", "sptk-mlsa": "Debian sptk", "griffin-lim": "numpy (this script)",
           "praat-psola": "Debian praat", "codec2": "Debian codec2"}
LICENCE = {"world": "MIT (pyworld) / modified BSD (WORLD)", "sptk-mlsa": "BSD-3-Clause", "griffin-lim": "n/a",
           "praat-psola": "GPL-3+", "codec2": "LGPL-2.1"}
CODEC2_MODES = ("700C", "1300", "450")


def _run(cmd, data: bytes) -> bytes:
    return subprocess.run(cmd, input=data, check=True, capture_output=True).stdout


def world(x, _voice=None):
    import pyworld as pw
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = pw.dio(x, RATE, frame_period=5.0)
    f0 = pw.stonemask(x, f0, t, RATE)
    sp = pw.cheaptrick(x, f0, t, RATE)
    ap = pw.d4c(x, f0, t, RATE)
    return pw.synthesize(f0, sp, ap, RATE, frame_period=5.0)[:len(x)]


def sptk_mlsa(x, _voice=None):
    b = os.path.join(SPTK_BIN, "")
    scaled = (np.asarray(x) * 32768.0).astype("<f4").tobytes()
    with tempfile.TemporaryDirectory() as tmp:
        raw, pitch, mcep = (os.path.join(tmp, n) for n in ("x.f", "x.pitch", "x.mcep"))
        open(raw, "wb").write(scaled)
        with open(pitch, "wb") as f:
            f.write(_run([b + "pitch", "-a", "0", "-s", "16", "-p", "80", "-L", "60", "-H", "400", "-o", "0", raw], b""))
        framed = _run([b + "frame", "-l", "400", "-p", "80", raw], b"")
        windowed = _run([b + "window", "-l", "400", "-L", "512", "-w", "1"], framed)
        with open(mcep, "wb") as f:
            f.write(_run([b + "mcep", "-l", "512", "-m", "24", "-a", "0.42", "-e", "1.0", "-q", "0"], windowed))
        excitation = _run([b + "excite", "-p", "80", pitch], b"")
        y = _run([b + "mlsadf", "-m", "24", "-a", "0.42", "-p", "80", "-P", "5", mcep], excitation)
    y = np.frombuffer(y, dtype="<f4").astype(np.float64) / 32768.0
    if not np.all(np.isfinite(y)):
        raise RuntimeError("MLSA filter diverged")
    return np.concatenate([y, np.zeros(max(0, len(x) - len(y)))])[:len(x)]


def _mel_basis(n_fft=1024, bands=80, fmin=0.0, fmax=8000.0):
    """Slaney-style triangular mel filters (area-normalised), bands × (n_fft/2 + 1)."""
    def hz_to_mel(f):
        f = np.asarray(f, dtype=np.float64)
        lin = f / (200.0 / 3)
        log = 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(f >= 1000.0, log, lin)

    def mel_to_hz(m):
        m = np.asarray(m, dtype=np.float64)
        return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))
    freqs = np.linspace(0, RATE / 2, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), bands + 2))
    basis = np.zeros((bands, len(freqs)))
    for i in range(bands):
        lo, mid, hi = edges[i], edges[i + 1], edges[i + 2]
        basis[i] = np.maximum(0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
        basis[i] *= 2.0 / (hi - lo)
    return basis


def _stft(x, n_fft, hop, window):
    pad = n_fft // 2
    xp = np.pad(x, pad, mode="reflect")
    frames = 1 + (len(xp) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    return np.fft.rfft(xp[idx] * window, axis=1)


def _istft(spec, n_fft, hop, window, length):
    frames = spec.shape[0]
    out = np.zeros(n_fft + hop * (frames - 1))
    norm = np.zeros_like(out)
    chunks = np.fft.irfft(spec, n=n_fft, axis=1) * window
    for i in range(frames):
        out[i * hop:i * hop + n_fft] += chunks[i]
        norm[i * hop:i * hop + n_fft] += window ** 2
    out /= np.maximum(norm, 1e-8)
    pad = n_fft // 2
    return out[pad:pad + length]


def griffin_lim(x, _voice=None, n_fft=1024, hop=256, iterations=32, momentum=0.99):
    window = np.hanning(n_fft + 1)[:-1]
    magnitude = np.abs(_stft(np.asarray(x, dtype=np.float64), n_fft, hop, window))
    basis = _mel_basis(n_fft)
    mel = magnitude @ basis.T
    estimate = np.maximum(0.0, mel @ np.linalg.pinv(basis).T)
    rng = np.random.default_rng(0)
    angles = np.exp(2j * np.pi * rng.random(estimate.shape))
    previous = np.zeros_like(angles)
    for _ in range(iterations):
        y = _istft(estimate * angles, n_fft, hop, window, len(x))
        rebuilt = _stft(y, n_fft, hop, window)
        accelerated = rebuilt - (momentum / (1 + momentum)) * previous
        previous = rebuilt
        angles = accelerated / np.maximum(np.abs(accelerated), 1e-12)
    return _istft(estimate * angles, n_fft, hop, window, len(x))


PRAAT_PSOLA = """form Copy-synthesis
  sentence in_path
  sentence out_path
endform
sound = Read from file: in_path$
manipulation = To Manipulation: 0.01, 75, 600
resynthesis = Get resynthesis (overlap-add)
Save as WAV file: out_path$
"""


def praat_psola(x, _voice=None):
    from .common import write_wav, read_wav
    with tempfile.TemporaryDirectory() as tmp:
        script, src, dst = (os.path.join(tmp, n) for n in ("psola.praat", "in.wav", "out.wav"))
        open(script, "w").write(PRAAT_PSOLA)
        write_wav(src, x, RATE)
        subprocess.run(["praat", "--run", "--no-pref-files", script, src, dst], check=True, capture_output=True)
        y, rate = read_wav(dst)
    if rate != RATE:
        raise RuntimeError(f"praat wrote {rate} Hz")
    y = y[:, 0]
    return np.concatenate([y, np.zeros(max(0, len(x) - len(y)))])[:len(x)]


def codec2(x, mode="1300"):
    if mode not in CODEC2_MODES:
        raise ValueError(f"codec2 mode {mode}: expected one of {CODEC2_MODES}")
    pcm = np.clip(np.round(np.asarray(x) * 32767), -32768, 32767).astype("<i2").tobytes()
    # -D: no dither (sox dithers 16-bit output with an unseeded generator, which made builds differ).
    narrow = _run(["sox", "-V1", "-D", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1", "-",
                   "-t", "raw", "-r", "8000", "-"], pcm)
    bits = _run(["c2enc", mode, "-", "-"], narrow)
    decoded = _run(["c2dec", mode, "-", "-"], bits)
    wide = _run(["sox", "-V1", "-D", "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1", "-",
                 "-t", "raw", "-r", str(RATE), "-"], decoded)
    y = np.frombuffer(wide, dtype="<i2").astype(np.float64) / 32768.0
    return np.concatenate([y, np.zeros(max(0, len(x) - len(y)))])[:len(x)]


RUNNERS = {"world": world, "sptk-mlsa": sptk_mlsa, "griffin-lim": griffin_lim, "praat-psola": praat_psola, "codec2": codec2}


def vocode(engine, x, voice=None):
    """Copy-synthesis of `x` (16 kHz float) by `engine`; `voice` is the codec2 mode (700C, 1300, 450)."""
    return RUNNERS[engine](x, voice) if voice else RUNNERS[engine](x)
