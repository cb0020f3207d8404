"""The `nonspeech` set: audio that holds no speech — real music, real sound effects, telephone call-progress and
signalling tones, noises, silence — and, as the other side, real speech over real music; in the speech set's `wide`
and `tel` tracks. It trains and tests the synthetic-speech detector's speech gate ("no speech" instead of a bona fide
score). Sources are split so that the test side is unseen: test music comes from other packages (other composers)
than train music, test effects and test signal kinds appear nowhere in train, and speech over music pairs test
speakers with test music."""
import glob
import os
import tempfile
from collections import defaultdict

import numpy as np

from . import sources, speech
from .common import atomic_write_text, parallel_map, rng_for, sox_read, stable_hash, write_wav

RATE = speech.TRACK_RATE
FOF = "/usr/share/games/fretsonfire/data/songs"

# Real recordings: origin → (files mixed together, Debian package, licence, attribution, split).
def real_sources():
    out = {}
    for artist, song, licence, who in [("muldjord", "armygeddon", "CC-BY-SA-3.0", "El Senator (Muldjord)"),
                                       ("muldjord", "chaos_god", "CC-BY-SA-3.0", "El Senator (Muldjord)"),
                                       ("sectoid", "Feelings", "GPL-2+", "Sectoid"),
                                       ("sectoid", "Escape from chaosland", "GPL-2+", "Sectoid")]:
        package = f"fretsonfire-songs-{artist}"
        out[f"fof-{artist}-{song.lower().replace(' ', '-')}"] = (
            [f"{FOF}/{artist}/{song}/song.ogg", f"{FOF}/{artist}/{song}/guitar.ogg"], "music", package, licence,
            f"\"{song}\" by {who}", "train")
    # One clip source per file: (origin prefix, files, package, licence, attribution with {name}, split).
    for prefix, pattern, package, licence, attribution, split in [
            ("moh", "/usr/share/asterisk/moh/*.wav", "asterisk-moh-opsound-wav", "CC-BY-SA-3.0",
             "\"{name}\" (Asterisk music on hold, opsound.org)", "train"),
            ("neverball", "/usr/share/games/neverball/bgm/*.ogg", "neverball-data", "GPL-2+",
             "Neverball background music \"{name}\"", "test"),
            ("etr", "/usr/share/games/etr/music/*.ogg", "extremetuxracer-data", "GPL-2+", "Extreme Tux Racer music \"{name}\"", "test")]:
        for path in sorted(glob.glob(pattern)):
            name = os.path.splitext(os.path.basename(path))[0]
            out[f"{prefix}-{name}"] = ([path], "music", package, licence, attribution.format(name=name), split)
    for path in sorted(glob.glob("/usr/share/sounds/freedesktop/stereo/*.oga")):
        name = os.path.basename(path)[:-4]
        if name.startswith("audio-channel-"):  # spoken announcements ("front left"): speech, not effects
            continue
        out[f"freedesktop-{name}"] = ([path], "effect", "sound-theme-freedesktop", "see the package (CC-BY-SA-3.0, "
                                      "CC-BY-3.0, GPL-2+ per file)", f"freedesktop sound theme \"{name}\"", "test")
    return out


# Generated signals: kind → split. Train and test kinds differ, so the gate is judged on signals it never saw.
GENERATED = {"sine": "train", "dtmf": "train", "square": "train", "white-noise": "train", "pink-noise": "train",
             "silence": "train",
             "call-progress": "test", "chirp": "test", "fsk-modem": "test", "brown-noise": "test", "mains-hum": "test",
             "dither": "test"}
DTMF_ROWS, DTMF_COLUMNS = (697, 770, 852, 941), (1209, 1336, 1477, 1633)
# (name, frequencies Hz, seconds on, seconds off): North American and European call-progress tones (ITU-T E.180).
CALL_PROGRESS = [("dial-us", (350, 440), 1.0, 0.0), ("ringback-us", (440, 480), 2.0, 4.0), ("busy-us", (480, 620), 0.5, 0.5),
                 ("dial-eu", (425,), 1.0, 0.0), ("ringback-eu", (425,), 1.0, 4.0), ("busy-eu", (425,), 0.5, 0.5),
                 ("congestion-uk", (400,), 0.4, 0.35)]

# Clips per origin (real) or kind (generated) at scale 1.
CLIPS_PER_MUSIC = {"train": 12, "test": 8}
CLIPS_PER_KIND = 24
SPEECH_OVER_MUSIC = {"train": 60, "test": 60}


def coloured_noise(rng, n, exponent):
    """Noise with power ∝ 1/f^exponent (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    f[0] = f[1]
    return np.fft.irfft(spectrum / f ** (exponent / 2), n)


def generate(kind, rng, seconds):
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    if kind == "sine":
        return np.sin(2 * np.pi * rng.uniform(150, 3400) * t)
    if kind == "square":
        return np.sign(np.sin(2 * np.pi * rng.uniform(100, 1000) * t))
    if kind == "dtmf":
        x = np.zeros(n)
        pos = 0
        while pos < n:
            on, off = int(rng.uniform(0.06, 0.2) * RATE), int(rng.uniform(0.05, 0.3) * RATE)
            seg = t[pos:pos + on]
            x[pos:pos + on] = np.sin(2 * np.pi * rng.choice(DTMF_ROWS) * seg) + np.sin(2 * np.pi * rng.choice(DTMF_COLUMNS) * seg)
            pos += on + off
        return x
    if kind == "call-progress":
        _, freqs, on, off = CALL_PROGRESS[rng.integers(len(CALL_PROGRESS))]
        x = sum(np.sin(2 * np.pi * f * t) for f in freqs)
        if off > 0:
            x = x * ((t % (on + off)) < on)
        return x
    if kind == "chirp":
        f0, f1 = rng.uniform(100, 600), rng.uniform(1500, 3600)
        sweep = rng.uniform(0.5, seconds)
        phase = 2 * np.pi * (f0 * (t % sweep) + (f1 - f0) * (t % sweep) ** 2 / (2 * sweep))
        return np.sin(phase)
    if kind == "fsk-modem":  # Bell 202: 1200 baud, mark 1200 Hz / space 2200 Hz, continuous phase
        bits = rng.integers(0, 2, int(seconds * 1200) + 1)
        freq = np.where(bits[(t * 1200).astype(int)] == 1, 1200.0, 2200.0)
        return np.sin(2 * np.pi * np.cumsum(freq) / RATE)
    if kind == "white-noise":
        return rng.standard_normal(n)
    if kind == "pink-noise":
        return coloured_noise(rng, n, 1)
    if kind == "brown-noise":
        return coloured_noise(rng, n, 2)
    if kind == "mains-hum":
        base = rng.choice([50.0, 60.0])
        return sum(rng.uniform(0.2, 1) / k * np.sin(2 * np.pi * base * k * t + rng.uniform(0, 6.3)) for k in range(1, 8)) \
            + 0.01 * rng.standard_normal(n)
    if kind == "silence":
        return np.zeros(n)
    if kind == "dither":
        return rng.standard_normal(n) * 10 ** (-90 / 20)
    raise ValueError(kind)


def level(x, rng, kind):
    """A random level (RMS −40…−18 dBFS; peak ≤ 0.99); silence and dither keep theirs."""
    if kind in ("silence", "dither"):
        return x
    rms = np.sqrt(np.mean(x ** 2)) if len(x) else 0
    if rms <= 0:
        return x
    y = x * (10 ** (rng.uniform(-40, -18) / 20) / rms)
    peak = np.max(np.abs(y))
    return y * (0.99 / peak) if peak > 0.99 else y


def plan(seed, scale):
    jobs = []
    def count(n):
        return max(1, int(round(n * scale)))
    for origin, (files, kind, package, licence, attribution, split) in sorted(real_sources().items()):
        if not all(os.path.exists(f) for f in files):
            continue
        clips = 1 if kind == "effect" else count(CLIPS_PER_MUSIC[split])
        for k in range(clips):
            jobs.append(dict(id=f"ns-{origin}-{k:02d}", kind=kind, origin=origin, files=files, split=split,
                             source=f"{package}={sources.package_version(package)}", licence=licence,
                             attribution=attribution, speech="no"))
    for kind, split in GENERATED.items():
        for k in range(count(CLIPS_PER_KIND)):
            jobs.append(dict(id=f"ns-{kind}-{k:02d}", kind=kind, origin=kind, files=[], split=split,
                             source="generated (Corpora/vgcorpora/nonspeech.py)", licence="CC0-1.0",
                             attribution=f"{kind} generated from the corpus seed", speech="no"))
    # Speech over music: the speech set's bona fide talkers of a split over that split's music.
    talkers = defaultdict(list)
    for it in sorted(sources.bonafide_items(), key=lambda r: r["id"]):
        split = speech.speaker_split(it)
        if split in ("train", "test"):
            talkers[split].append(it)
    music = defaultdict(list)
    for origin, (files, kind, *_rest, split) in sorted(real_sources().items()):
        if kind == "music" and all(os.path.exists(f) for f in files):
            music[split].append(origin)
    real = real_sources()
    for split, n in SPEECH_OVER_MUSIC.items():
        if not talkers[split] or not music[split]:
            continue
        for k in range(count(n)):
            h = stable_hash(seed, "speech-over-music", split, k)
            it = talkers[split][h % len(talkers[split])]
            origin = music[split][(h >> 16) % len(music[split])]
            files, _, package, licence, attribution, _ = real[origin]
            jobs.append(dict(id=f"ns-speech-over-{origin}-{k:02d}", kind="speech-over-music", origin=origin, files=files,
                             split=split, speech="yes", speech_path=it["orig_path"], speaker=it["speaker"],
                             language=it["language"], text=it["text"],
                             source=f"{it['source']} + {package}={sources.package_version(package)}",
                             licence=f"{it['licence']} (speech); {licence} (music)",
                             attribution=f"{it['attribution']}; over {attribution}",
                             snr_db=f"{rng_for(seed, 'speech-over-music-snr', k, split).uniform(0, 20):.1f}"))
    return jobs


_decoded = {}
_decoded_lock = __import__("threading").Lock()


def decoded(path):
    """A source file at 16 kHz mono, decoded once per build (clips of one song share it)."""
    with _decoded_lock:
        if path not in _decoded:
            _decoded[path] = sox_read(path, RATE)
        return _decoded[path]


def render(job, seed):
    """The clip at 16 kHz mono before the track channel: a random 2–8 s excerpt (effects: the whole sound, ≤ 8 s)."""
    rng = rng_for(seed, "nonspeech", job["id"])
    seconds = float(rng.uniform(2, 8))
    if not job["files"]:
        return level(generate(job["kind"], rng, seconds), rng, job["kind"])
    mix = None
    for f in job["files"]:
        x = decoded(f)
        mix = x if mix is None else mix[:min(len(mix), len(x))] + x[:min(len(mix), len(x))]
    if job["kind"] == "effect":
        clip = mix[:int(8 * RATE)]
    else:
        start = int(rng.uniform(0, max(0.0, len(mix) / RATE - seconds)) * RATE)
        clip = mix[start:start + int(seconds * RATE)].copy()
    if job["kind"] == "speech-over-music":
        voice = sox_read(job["speech_path"], RATE)
        start = int(rng.uniform(0, max(0.0, len(clip) - len(voice))))
        clip = clip[:max(len(clip), len(voice))]
        if len(clip) < len(voice):
            clip = np.pad(clip, (0, len(voice) - len(clip)))
        music_rms = np.sqrt(np.mean(clip ** 2)) + 1e-12
        voice_rms = np.sqrt(np.mean(voice ** 2)) + 1e-12
        snr = float(job["snr_db"])
        clip = clip * (voice_rms / music_rms / 10 ** (snr / 20))
        start = min(start, len(clip) - len(voice))
        clip[start:start + len(voice)] += voice
    return level(clip, rng, "music")


def make(job, out_dir, seed):
    paths = {t: os.path.join(out_dir, t, job["kind"], job["id"] + ".wav") for t in speech.TRACKS}
    if not all(os.path.exists(p) for p in paths.values()):
        x = render(job, seed)
        with tempfile.TemporaryDirectory() as tmp:
            source = os.path.join(tmp, "x.wav")
            write_wav(source, x, RATE)
            for track, effects in speech.TRACKS.items():
                y = sox_read(source, RATE, effects)
                write_wav(paths[track], np.clip(y, -0.99, 0.99), RATE)
    return {t: sox_frames(p) / RATE for t, p in paths.items()}


def sox_frames(path):
    import wave
    with wave.open(path, "rb") as w:
        return w.getnframes()


COLUMNS = ["id", "path", "speech", "kind", "origin", "source", "channel", "duration", "split", "licence", "attribution",
           "speaker", "language", "text", "snr_db"]


def build(out_root, seed, scale, jobs, quiet=False):
    out_dir = os.path.join(out_root, "nonspeech")
    work = plan(seed, scale)
    durations = parallel_map(lambda j: make(j, out_dir, seed), work, jobs, "nonspeech: clips", quiet)
    rows = {}
    for track in speech.TRACKS:
        rows[track] = []
        for job, d in sorted(zip(work, durations), key=lambda p: p[0]["id"]):
            rows[track].append({c: ("" if c not in job else job[c]) for c in COLUMNS} | dict(
                path=os.path.relpath(os.path.join(out_dir, track, job["kind"], job["id"] + ".wav"), out_dir),
                channel={"wide": "wide-16k-3.7k", "tel": "tel-300-3400"}[track], duration=f"{d[track]:.3f}"))
    for track, trows in rows.items():
        atomic_write_text(os.path.join(out_dir, f"manifest.{track}.csv"), to_csv_plain(trows))
        atomic_write_text(os.path.join(out_dir, f"manifest.{track}.jsonl"), to_jsonl_plain(trows))
    atomic_write_text(os.path.join(out_dir, "DATASHEET.md"), datasheet(rows["wide"]))
    return rows


def to_csv_plain(rows):
    import csv
    import io
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def to_jsonl_plain(rows):
    import json
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def datasheet(rows):
    cells = defaultdict(lambda: [0, 0.0])
    for r in rows:
        c = cells[(r["speech"], r["kind"], r["split"])]
        c[0] += 1
        c[1] += float(r["duration"])
    out = ["# Datasheet: `nonspeech` set", "", "Generated by `Corpora/build`; do not edit. Counts from the `wide` track; "
           "the `tel` track holds the same clips through the telephone channel.", "",
           "`speech` = no: music, sound effects, tones, noise, silence (the detector must answer \"no speech\"); "
           "`speech` = yes: real speech over real music at 0–20 dB SNR (it must still be scored). Test music comes "
           "from other packages than train music; test effects and generated test kinds appear nowhere in train.", "",
           "| speech | kind | split | clips | minutes |", "|---|---|---|---|---|"]
    for (sp, kind, split), (n, secs) in sorted(cells.items()):
        out.append(f"| {sp} | {kind} | {split} | {n} | {secs / 60:.1f} |")
    out += ["", "## Origins per split", ""]
    origins = defaultdict(set)
    for r in rows:
        origins[r["split"]].add(r["origin"])
    for split in sorted(origins):
        out.append(f"- `{split}`: {', '.join(sorted(origins[split]))}")
    out += ["", "## Licences and attributions", "", "| licence | source | items |", "|---|---|---|"]
    att = defaultdict(int)
    for r in rows:
        att[(r["licence"], r["source"].split("=")[0])] += 1
    for (lic, src), n in sorted(att.items()):
        out.append(f"| {lic} | {src} | {n} |")
    return "\n".join(out) + "\n"
