#!/usr/bin/env python3
"""Independent reference values for VoiceGuard's LFCC and MFCC (Tests/DSPTests).

Implements, with numpy/scipy and in float64, the same definitions the Swift code documents:
- LFCC = the ASVspoof 2019 LA baseline front end (extract_lfcc.m): pre-emphasis 0.97;
  20 ms symmetric Hamming frames, 10 ms hop, frames from sample 0 with the last one zero-padded
  (MATLAB buffer ... 'nodelay'); |FFT_512|^2; 20 linear triangular filters (trimf) over 0..fs/2;
  log10(x + eps); orthonormal DCT-II keeping c0..c19; deltas = x[t+1] - x[t-1] with edge
  repetition (rastamat deltas(x, 3)), delta-deltas the same on the deltas: 60 values per frame.
- MFCC: pre-emphasis 0.97; 25 ms symmetric Hamming, 10 ms hop, same framing; |FFT_512|^2;
  40 HTK-mel (2595 log10(1 + f/700)) triangular filters over 20 Hz..fs/2; ln(x + 1e-10);
  orthonormal DCT-II keeping c0..c12; HTK deltas over +-2 frames normalised by 2*sum(n^2).

Run from this folder:  python3 make_cepstra_reference.py  (writes cepstra_reference.json)
"""
import json
import numpy as np
import scipy.fft
import scipy.io.wavfile
import scipy.signal


def frames_start_aligned(x, length, hop):
    overlap = length - hop
    count = max(1, int(np.ceil((len(x) - overlap) / hop)))
    padded = np.zeros((count - 1) * hop + length)
    padded[: len(x)] = x
    return np.stack([padded[i * hop: i * hop + length] for i in range(count)])


def trimf(x, a, b, c):
    up = (x - a) / (b - a) if b > a else (x >= b).astype(float)
    down = (c - x) / (c - b) if c > b else (x <= b).astype(float)
    return np.maximum(0.0, np.minimum(up, down))


def filterbank(edges_hz, nfft, fs):
    f = np.linspace(0, fs / 2, nfft // 2 + 1)
    return np.stack([trimf(f, edges_hz[i], edges_hz[i + 1], edges_hz[i + 2])
                     for i in range(len(edges_hz) - 2)], axis=1)


def deltas(feat, half_width, normalized):
    t = feat.shape[0]
    out = np.zeros_like(feat)
    for n in range(1, half_width + 1):
        ahead = feat[np.minimum(np.arange(t) + n, t - 1)]
        behind = feat[np.maximum(np.arange(t) - n, 0)]
        out += n * (ahead - behind)
    if normalized:
        out /= 2 * sum(n * n for n in range(1, half_width + 1))
    return out


def cepstra(x, fs, frame_ms, hop_ms, nfft, edges_hz, log, floor, keep, half_width, normalized):
    y = scipy.signal.lfilter([1, -0.97], [1], x)
    length = int(round(fs * frame_ms / 1000))
    hop = int(round(fs * hop_ms / 1000))
    frames = frames_start_aligned(y, length, hop) * scipy.signal.windows.hamming(length, sym=True)
    power = np.abs(np.fft.rfft(frames, nfft, axis=1)) ** 2
    energies = power @ filterbank(edges_hz, nfft, fs)
    logs = log(energies + floor)
    static = scipy.fft.dct(logs, type=2, norm="ortho", axis=1)[:, :keep]
    d1 = deltas(static, half_width, normalized)
    d2 = deltas(d1, half_width, normalized)
    return np.concatenate([static, d1, d2], axis=1)


def main():
    fs, pcm = scipy.io.wavfile.read("speech-16k.wav")
    assert pcm.dtype == np.int16 and fs == 16000
    x = pcm.astype(np.float64) / 32768.0
    lfcc = cepstra(x, fs, 20, 10, 512, np.linspace(0, fs / 2, 22), np.log10, np.finfo(float).eps,
                   20, 1, False)
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    imel = lambda m: 700 * (10 ** (m / 2595) - 1)
    mel_edges = imel(np.linspace(mel(20), mel(fs / 2), 42))
    mfcc = cepstra(x, fs, 25, 10, 512, mel_edges, np.log, 1e-10, 13, 2, True)
    out = {
        "source": "speech-16k.wav (1.0 s, 16 kHz PCM16; excerpt of asterisk-core-sounds-en conf-onlyperson, CC-BY-SA-3.0, Allison Smith)",
        "generator": "make_cepstra_reference.py (numpy %s, scipy %s)" % (np.__version__, scipy.__version__),
        "lfcc": {"frames": lfcc.shape[0], "dimension": lfcc.shape[1],
                 "values": [float("%.7g" % v) for v in lfcc.ravel()]},
        "mfcc": {"frames": mfcc.shape[0], "dimension": mfcc.shape[1],
                 "values": [float("%.7g" % v) for v in mfcc.ravel()]},
    }
    with open("cepstra_reference.json", "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("lfcc", lfcc.shape, "mfcc", mfcc.shape)


if __name__ == "__main__":
    main()
