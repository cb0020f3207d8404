"""The `aug` track: every utterance of the `wide` track (both labels) through one randomly drawn channel — a room,
noise, a band-pass, clipping, and a real codec (GSM 06.10, G.711, G.722, G.726, Speex narrowband, Opus, MP3, AAC via
ffmpeg) — so that a detector trained on it cannot use the channel to predict the label, and its results can be read
per codec and per condition.

The draw depends only on the corpus seed and the utterance id, never on the label: every channel carries both classes
in the proportions of the corpus. Codecs run on batches (utterances joined by short gaps, encoded and decoded by one
pair of ffmpeg processes, cut back at their offsets after measuring the codec's delay), because one process pair per
utterance would cost more than the rest of the build."""
import os
import subprocess
import tempfile

import numpy as np

from .common import parallel_map, rng_for, write_wav, read_wav

RATE = 16000
# Codec conditions: name → (coding rate in Hz, ffmpeg encoder arguments, container). None: no codec.
CODECS = {
    "none": None,
    "gsm-fr": (8000, ["-c:a", "libgsm"], "gsm"),
    "g711-alaw": (8000, ["-c:a", "pcm_alaw"], "wav"),
    "g711-mulaw": (8000, ["-c:a", "pcm_mulaw"], "wav"),
    "g726-16k": (8000, ["-c:a", "adpcm_g726", "-b:a", "16k"], "wav"),
    "g726-24k": (8000, ["-c:a", "adpcm_g726", "-b:a", "24k"], "wav"),
    "g722": (16000, ["-c:a", "adpcm_g722"], "wav"),
    "speex-nb-8k": (8000, ["-c:a", "libspeex", "-b:a", "8k"], "ogg"),
    "opus-6k": (16000, ["-c:a", "libopus", "-b:a", "6k", "-application", "voip"], "ogg"),
    "opus-8k": (16000, ["-c:a", "libopus", "-b:a", "8k", "-application", "voip"], "ogg"),
    "opus-12k": (16000, ["-c:a", "libopus", "-b:a", "12k", "-application", "voip"], "ogg"),
    "mp3-16k": (16000, ["-c:a", "libmp3lame", "-b:a", "16k"], "mp3"),
    "mp3-24k": (16000, ["-c:a", "libmp3lame", "-b:a", "24k"], "mp3"),
    "mp3-32k": (16000, ["-c:a", "libmp3lame", "-b:a", "32k"], "mp3"),
    "aac-24k": (16000, ["-c:a", "aac", "-b:a", "24k"], "adts"),
}
CODEC_NAMES = list(CODECS)
P_NO_CODEC = 0.15
P_REVERB, P_NOISE, P_BANDPASS, P_CLIP = 0.3, 0.4, 0.3, 0.1
NOISE_COLOURS = ("white", "pink", "brown")
NOISE_SNR_DB = (5, 10, 15, 20, 25, 30)
BATCH_SECONDS = 240.0
GAP_SECONDS = 0.25
MAX_DELAY = 4000  # samples at 16 kHz a codec may delay by


def draw(seed, item_id):
    """The channel of one utterance: a dict of the conditions (room, noise, band, clip, codec) and its label."""
    rng = rng_for(seed, "channel", item_id)
    ch = {}
    if rng.random() < P_REVERB:
        ch["rt60"] = float(np.round(rng.uniform(0.2, 0.9), 2))
    if rng.random() < P_NOISE:
        ch["noise"] = (NOISE_COLOURS[rng.integers(len(NOISE_COLOURS))], int(NOISE_SNR_DB[rng.integers(len(NOISE_SNR_DB))]))
    if rng.random() < P_BANDPASS:
        ch["band"] = (int(rng.choice([100, 200, 300, 400])), int(rng.choice([2800, 3100, 3400, 3700])))
    if rng.random() < P_CLIP:
        ch["clip_db"] = int(rng.choice([6, 12, 18]))
    ch["codec"] = "none" if rng.random() < P_NO_CODEC else CODEC_NAMES[1 + rng.integers(len(CODEC_NAMES) - 1)]
    parts = []
    if "rt60" in ch:
        parts.append(f"reverb-{ch['rt60']:.2f}s")
    if "noise" in ch:
        parts.append(f"noise-{ch['noise'][0]}-{ch['noise'][1]}dB")
    if "band" in ch:
        parts.append(f"band-{ch['band'][0]}-{ch['band'][1]}")
    if "clip_db" in ch:
        parts.append(f"clip+{ch['clip_db']}dB")
    if ch["codec"] != "none":
        parts.append(ch["codec"])
    ch["label"] = "+".join(parts) or "clean"
    return ch


def _coloured_noise(rng, n, colour):
    white = rng.standard_normal(n)
    if colour == "white":
        return white
    spec = np.fft.rfft(white)
    f = np.arange(len(spec), dtype=np.float64)
    f[0] = 1.0
    spec /= np.sqrt(f) if colour == "pink" else f
    return np.fft.irfft(spec, n)


def _rms(x):
    return float(np.sqrt(np.mean(x ** 2) + 1e-20))


def _fft_filter(x, gain):
    n = 1 << (len(x) - 1).bit_length()
    return np.fft.irfft(np.fft.rfft(x, n) * gain(np.fft.rfftfreq(n, 1.0 / RATE)), n)[:len(x)]


def pre_codec(x, ch, seed, item_id):
    """The room, noise, band and clipping conditions of `ch` applied to one utterance (16 kHz float)."""
    rng = rng_for(seed, "channel-signal", item_id)
    level = _rms(x)
    y = x
    if "rt60" in ch:
        length = int(ch["rt60"] * RATE)
        t = np.arange(length) / RATE
        tail = rng.standard_normal(length) * np.exp(-6.9078 * t / ch["rt60"])  # −60 dB at rt60
        rir = np.concatenate([[0.0] * int(rng.integers(40, 240)), [1.0], tail * 10 ** (-rng.uniform(0, 12) / 20) * 0.1])
        n = 1 << (len(y) + len(rir) - 2).bit_length()
        y = np.fft.irfft(np.fft.rfft(y, n) * np.fft.rfft(rir, n), n)[:len(x)]
        y *= level / _rms(y)
    if "noise" in ch:
        colour, snr = ch["noise"]
        noise = _coloured_noise(rng, len(y), colour)
        y = y + noise * (level / _rms(noise)) * 10 ** (-snr / 20)
    if "band" in ch:
        lo, hi = ch["band"]
        def gain(f):
            # Raised-cosine edges, 50 Hz below the low and 200 Hz above the high corner.
            g = np.clip((f - (lo - 50)) / 50, 0, 1) * np.clip(((hi + 200) - f) / 200, 0, 1)
            return 0.5 - 0.5 * np.cos(np.pi * g)
        y = _fft_filter(y, gain)
    if "clip_db" in ch:
        y = np.clip(y * 10 ** (ch["clip_db"] / 20), -1.0, 1.0) * 10 ** (-ch["clip_db"] / 20)
    return y


def _ffmpeg(args, **kw):
    return subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
                          check=True, capture_output=True, **kw)


def codec_roundtrip(x, codec):
    """x (16 kHz float) encoded and decoded by the real codec, aligned to x and of the same length."""
    rate, enc, container = CODECS[codec]
    with tempfile.TemporaryDirectory(prefix="vg-channel-") as tmp:
        raw, coded = os.path.join(tmp, "in.f32"), os.path.join(tmp, "coded")
        x.astype("<f4").tofile(raw)
        _ffmpeg(["-f", "f32le", "-ar", str(RATE), "-ac", "1", "-i", raw, "-ar", str(rate), *enc, "-f", container, coded])
        out = _ffmpeg(["-i", coded, "-ar", str(RATE), "-ac", "1", "-f", "f32le", "-"]).stdout
    y = np.frombuffer(out, dtype="<f4").astype(np.float64)
    lag = codec_delay(x, y)
    y = y[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag), y])
    return y[:len(x)] if len(y) >= len(x) else np.concatenate([y, np.zeros(len(x) - len(y))])


def codec_delay(x, y):
    """The lag (samples) of y behind x that maximises their cross-correlation, within ±MAX_DELAY."""
    n = min(len(x), len(y), 30 * RATE)
    size = 1 << (n + MAX_DELAY).bit_length()
    c = np.fft.irfft(np.conj(np.fft.rfft(x[:n], size)) * np.fft.rfft(y[:n], size), size)
    candidates = np.concatenate([c[:MAX_DELAY + 1], c[-MAX_DELAY:]])
    lags = np.concatenate([np.arange(MAX_DELAY + 1), np.arange(-MAX_DELAY, 0)])
    return int(lags[np.argmax(candidates)])


def _path(out_dir, item):
    return os.path.join(out_dir, "aug", item["label"], item["id"] + ".wav")


def _run_batch(batch, out_dir, seed):
    codec, members = batch
    signals = []
    for it in members:
        x, rate = read_wav(os.path.join(out_dir, "wide", it["label"], it["id"] + ".wav"))
        assert rate == RATE, f"{it['id']}: the wide track is {rate} Hz, expected {RATE}"
        signals.append(pre_codec(x[:, 0], draw(seed, it["id"]), seed, it["id"]))
    if codec != "none":
        gap = np.zeros(int(GAP_SECONDS * RATE))
        joined = np.concatenate([s for x in signals for s in (x, gap)])
        coded = codec_roundtrip(joined, codec)
        offsets = np.cumsum([0] + [len(x) + len(gap) for x in signals])
        signals = [coded[o:o + len(x)] for o, x in zip(offsets, signals)]
    for it, y in zip(members, signals):
        write_wav(_path(out_dir, it), y, RATE)


def build_track(items, out_dir, seed, jobs, quiet=False):
    """Writes aug/<label>/<id>.wav for every item (resumable); returns {id: channel dict}."""
    channels = {it["id"]: draw(seed, it["id"]) for it in items}
    todo = [it for it in sorted(items, key=lambda r: r["id"]) if not os.path.exists(_path(out_dir, it))]
    batches = []
    for codec in CODEC_NAMES:
        current, seconds = [], 0.0
        for it in (t for t in todo if channels[t["id"]]["codec"] == codec):
            current.append(it)
            seconds += it["track_seconds"] + GAP_SECONDS
            if seconds >= BATCH_SECONDS:
                batches.append((codec, current))
                current, seconds = [], 0.0
        if current:
            batches.append((codec, current))
    parallel_map(lambda b: _run_batch(b, out_dir, seed), batches, jobs, f"speech: aug track ({len(todo)} utterances)", quiet)
    return channels
