"""Robustness attacks with the real encoders (lame, oggenc, opusenc, ffmpeg) and sox.

Each attack is a list of shell-free command templates run in order. Placeholders: {in} input,
{out} output WAV, {t} a temporary folder, {rate} and {ch} the input's rate and channels,
{half} max(rate // 2, 4000), {lp4k} min(4000 Hz, 0.49 × rate), {other} a real music clip used for splicing (resampled to the input).
Steps named `noise:<snr>` and `crop:<seconds>` / `splice:<seconds>` run in Python (numpy, seeded)."""
import os
import shutil
import subprocess
import tempfile

import numpy as np

SPLICE_SOURCE = "/usr/share/asterisk/moh/reno_project-system.wav"
DECODE = ["ffmpeg", "-v", "error", "-y", "-i", "{t}/coded", "-ar", "{rate}", "-ac", "{ch}", "-c:a", "pcm_s16le", "{out}"]

ATTACKS = {
    "mp3-128k": [["lame", "--quiet", "-b", "128", "{in}", "{t}/coded"], DECODE],
    "mp3-64k": [["lame", "--quiet", "-b", "64", "{in}", "{t}/coded"], DECODE],
    "vorbis-q2": [["oggenc", "-Q", "-q", "2", "-o", "{t}/coded", "{in}"], DECODE],
    "opus-32k": [["opusenc", "--quiet", "--bitrate", "32", "{in}", "{t}/coded"], DECODE],
    "opus-16k": [["opusenc", "--quiet", "--bitrate", "16", "{in}", "{t}/coded"], DECODE],
    "aac-64k": [["ffmpeg", "-v", "error", "-y", "-i", "{in}", "-c:a", "aac", "-b:a", "64k", "-f", "mp4", "{t}/coded"], DECODE],
    "resample-down-up": [["sox", "{in}", "{t}/down.wav", "rate", "-v", "{half}"], ["sox", "{t}/down.wav", "{out}", "rate", "-v", "{rate}"]],
    "resample-48k": [["sox", "{in}", "{out}", "rate", "-v", "48000"]],
    "resample-8k": [["sox", "{in}", "{out}", "rate", "-v", "8000"]],
    "telephone-8k": [["sox", "{in}", "-c", "1", "{out}", "sinc", "300-3400", "rate", "-v", "8000"]],
    "mulaw": [["sox", "{in}", "-r", "8000", "-c", "1", "-e", "u-law", "{t}/g711.wav"], ["sox", "{t}/g711.wav", "-e", "signed", "-b", "16", "{out}"]],
    "alaw": [["sox", "{in}", "-r", "8000", "-c", "1", "-e", "a-law", "{t}/g711.wav"], ["sox", "{t}/g711.wav", "-e", "signed", "-b", "16", "{out}"]],
    "gsm": [["sox", "{in}", "-r", "8000", "-c", "1", "{t}/coded.gsm"], ["sox", "{t}/coded.gsm", "-e", "signed", "-b", "16", "{out}"]],
    "lowpass-4k": [["sox", "{in}", "{out}", "sinc", "-{lp4k}"]],
    "band-300-3400": [["sox", "{in}", "{out}", "sinc", "300-3400"]],
    "highpass-300": [["sox", "{in}", "{out}", "sinc", "300"]],
    "noise-30db": [["noise:30"]],
    "noise-20db": [["noise:20"]],
    "noise-10db": [["noise:10"]],
    "gain-minus-10db": [["sox", "{in}", "{out}", "gain", "-10"]],
    "gain-plus-6db-clip": [["sox", "-V1", "{in}", "{out}", "gain", "6"]],
    "crop-30s": [["crop:30"]],
    "crop-10s": [["crop:10"]],
    "splice": [["splice:5"]],
    "speed-plus-1": [["sox", "{in}", "{out}", "speed", "1.01", "rate", "-v", "{rate}"]],
    "speed-minus-1": [["sox", "{in}", "{out}", "speed", "0.99", "rate", "-v", "{rate}"]],
    "speed-plus-5": [["sox", "{in}", "{out}", "speed", "1.05", "rate", "-v", "{rate}"]],
    "speed-minus-5": [["sox", "{in}", "{out}", "speed", "0.95", "rate", "-v", "{rate}"]],
    "tempo-plus-1": [["sox", "{in}", "{out}", "tempo", "1.01"]],
    "tempo-minus-1": [["sox", "{in}", "{out}", "tempo", "0.99"]],
    "tempo-plus-5": [["sox", "{in}", "{out}", "tempo", "1.05"]],
    "tempo-minus-5": [["sox", "{in}", "{out}", "tempo", "0.95"]],
    "pitch-plus-25c": [["sox", "{in}", "{out}", "pitch", "25"]],
    "pitch-minus-25c": [["sox", "{in}", "{out}", "pitch", "-25"]],
    "pitch-plus-100c": [["sox", "{in}", "{out}", "pitch", "100"]],
    "pitch-minus-100c": [["sox", "{in}", "{out}", "pitch", "-100"]],
    "echo-60ms": [["sox", "{in}", "{out}", "echo", "0.8", "0.7", "60", "0.4"]],
    "reverb": [["sox", "{in}", "{out}", "reverb", "50"]],
}

PYTHON_STEPS = {
    "noise": "white Gaussian noise at the given SNR (dB) relative to the input's RMS, seeded",
    "crop": "keep the given seconds from the middle (the whole input if shorter)",
    "splice": "the input between the given seconds of real music (asterisk-moh-opsound 'System') before and after",
}


def describe(name):
    steps = []
    for step in ATTACKS[name]:
        if ":" in step[0] and len(step) == 1:
            kind, value = step[0].split(":")
            steps.append(f"({PYTHON_STEPS[kind].replace('the given', value)})")
        else:
            steps.append(" ".join(step))
    return " ; ".join(steps)


def markdown_table():
    lines = ["| attack | what runs |", "|---|---|"]
    for name in ATTACKS:
        lines.append(f"| `{name}` | `{describe(name)}` |" if not describe(name).startswith("(") else f"| `{name}` | {describe(name)} |")
    return "\n".join(lines) + "\n"


def probe(path):
    """(sample rate, channels) of an audio file."""
    def soxi(flag):
        return int(subprocess.run(["soxi", flag, path], check=True, capture_output=True, text=True).stdout.strip())
    return soxi("-r"), soxi("-c")


def read_f32(path):
    rate, ch = probe(path)
    raw = subprocess.run(["sox", path, "-t", "f32", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, "<f4").astype(np.float64).reshape(-1, ch), rate


def write_s16(path, x, rate):
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")
    subprocess.run(["sox", "-t", "s16", "-r", str(rate), "-c", str(x.shape[1]), "-", path],
                   input=pcm.tobytes(), check=True, capture_output=True)


def python_step(kind, value, src, out, seed):
    x, rate = read_f32(src)
    if kind == "noise":
        rms = np.sqrt(np.mean(x ** 2)) + 1e-12
        rng = np.random.default_rng(seed)
        y = x + rng.standard_normal(x.shape) * rms * 10 ** (-float(value) / 20)
    elif kind == "crop":
        n = int(float(value) * rate)
        start = max(0, (len(x) - n) // 2)
        y = x[start:start + n]
    else:  # splice
        other_raw = subprocess.run(["sox", SPLICE_SOURCE, "-t", "f32", "-c", str(x.shape[1]), "-", "rate", "-v", str(rate)],
                                   check=True, capture_output=True).stdout
        other = np.frombuffer(other_raw, "<f4").astype(np.float64).reshape(-1, x.shape[1])
        n = int(float(value) * rate)
        y = np.concatenate([other[:n] * 0.5, x, other[n:2 * n] * 0.5])
    write_s16(out, y, rate)


def apply(name, src, out, seed=0):
    """Applies attack `name` to `src`, writing a 16-bit WAV to `out` (atomically)."""
    if name not in ATTACKS:
        raise KeyError(f"unknown attack '{name}'; expected one of: {', '.join(ATTACKS)}")
    rate, ch = probe(src)
    with tempfile.TemporaryDirectory() as t:
        final = os.path.join(t, "out.wav")
        values = {"in": src, "out": final, "t": t, "rate": str(rate), "ch": str(ch), "half": str(max(rate // 2, 4000)), "lp4k": str(min(4000, int(rate * 0.49)))}
        for step in ATTACKS[name]:
            if len(step) == 1 and ":" in step[0]:
                kind, value = step[0].split(":")
                python_step(kind, value, src, final, seed)
            else:
                subprocess.run([part.format(**values) for part in step], check=True, capture_output=True)
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        shutil.move(final, out + ".tmp.wav")
        os.replace(out + ".tmp.wav", out)
