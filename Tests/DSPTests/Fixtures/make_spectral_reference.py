#!/usr/bin/env python3
"""Independent reference values for VoiceGuard's CQCC and modified group-delay cepstra (Tests/DSPTests).

Implements, with numpy/scipy in float64 and directly in the time domain (the Swift code works in
the frequency domain with sparse spectral kernels), the definitions the Swift code documents:
- CQCC (ConstantQCepstralConfiguration.speech(sampleRate: 16000)): constant-Q bins
  f_k = 100 * 2**(k/24) Hz up to 0.475*fs, Q = 1/(2**(1/24) - 1), N_k = round(Q*fs/f_k);
  X[k] at frame centre c = f*hop (hop 10 ms) is sum_m x[c - N_k//2 + m] * w[m] * exp(-2*pi*i*f_k*(m - N_k//2)/fs) / sum(w),
  w[m] = 0.5 - 0.5*cos(2*pi*(m + 0.5)/N_k), zeros outside the signal; ln(|X|^2 + 1e-10); linear
  interpolation over the bin index b*log2(f/f_0) onto 128 equally spaced frequencies f_0..f_top;
  orthonormal DCT-II, c1..c19.
- MGD (ModifiedGroupDelayConfiguration.speech(sampleRate: 16000)): 20 ms symmetric Hamming frames,
  10 ms hop from sample 0 (last frame zero-padded), frame scaled to unit RMS, N = 512; X = FFT(x),
  Y = FFT(n*x[n]); cepstrum of ln(|X| + 1e-8) liftered to quefrencies |q| < 30; S = exp(FFT of that);
  tau = (XrYr + XiYi)/S**1.8; tau_m = sign(tau)*|tau|**0.4; orthonormal DCT-II over the 257 bins, c1..c20.

Run from this folder:  python3 make_spectral_reference.py  (writes spectral_reference.json)
"""
import json
import numpy as np
import scipy.fft
import scipy.io.wavfile
import scipy.signal


def cqcc(x, fs):
    b, fmin, fmax, hop = 24, 100.0, 0.475 * fs, int(round(fs / 100))
    q = 1 / (2 ** (1 / b) - 1)
    count = int(np.floor(b * np.log2(fmax / fmin) + 1e-9)) + 1
    freqs = fmin * 2 ** (np.arange(count) / b)
    frames = (len(x) + hop - 1) // hop
    centres = np.arange(frames) * hop
    power = np.zeros((frames, count))
    for k, f in enumerate(freqs):
        n = max(1, int(round(q * fs / f)))
        m = np.arange(n)
        w = 0.5 - 0.5 * np.cos(2 * np.pi * (m + 0.5) / n)
        kernel = w * np.exp(-2j * np.pi * f * (m - n // 2) / fs) / w.sum()
        idx = centres[:, None] - n // 2 + m[None, :]
        valid = (idx >= 0) & (idx < len(x))
        seg = np.where(valid, x[np.clip(idx, 0, len(x) - 1)], 0.0)
        power[:, k] = np.abs(seg @ kernel) ** 2
    logs = np.log(power + 1e-10)
    uniform_f = np.linspace(freqs[0], freqs[-1], 128)
    position = np.clip(b * np.log2(uniform_f / freqs[0]), 0, count - 1)
    uniform = np.stack([np.interp(position, np.arange(count), row) for row in logs])
    return scipy.fft.dct(uniform, type=2, norm="ortho", axis=1)[:, 1:20]


def mgd(x, fs):
    length, hop, nfft = int(round(fs * 0.02)), int(round(fs * 0.01)), 512
    count = max(1, int(np.ceil((len(x) - (length - hop)) / hop)))
    padded = np.zeros((count - 1) * hop + length)
    padded[: len(x)] = x
    out = []
    for i in range(count):
        frame = padded[i * hop: i * hop + length] * scipy.signal.windows.hamming(length, sym=True)
        energy = np.sum(frame ** 2)
        frame = frame / np.sqrt(energy / length) if energy > 0 else frame * 0
        X = np.fft.rfft(frame, nfft)
        Y = np.fft.rfft(np.arange(length) * frame, nfft)
        ceps = np.fft.irfft(np.log(np.abs(X) + 1e-8), nfft)
        lifter = np.zeros(nfft)
        lifter[:30] = 1
        lifter[nfft - 29:] = 1
        smooth = np.exp(np.fft.rfft(ceps * lifter).real)
        tau = (X.real * Y.real + X.imag * Y.imag) / smooth ** 1.8
        tau_m = np.sign(tau) * np.abs(tau) ** 0.4
        out.append(scipy.fft.dct(tau_m, type=2, norm="ortho")[1:21])
    return np.array(out)


def block(a):
    return {"frames": a.shape[0], "dimension": a.shape[1], "values": [float("%.7g" % v) for v in a.ravel()]}


def main():
    fs, pcm = scipy.io.wavfile.read("speech-16k.wav")
    assert pcm.dtype == np.int16 and fs == 16000
    x = pcm.astype(np.float64) / 32768.0
    c, g = cqcc(x, fs), mgd(x, fs)
    out = {
        "source": "speech-16k.wav (see README.md)",
        "generator": "make_spectral_reference.py (numpy %s, scipy %s)" % (np.__version__, scipy.__version__),
        "cqcc": block(c),
        "mgd": block(g),
    }
    with open("spectral_reference.json", "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("cqcc", c.shape, "mgd", g.shape)


if __name__ == "__main__":
    main()
