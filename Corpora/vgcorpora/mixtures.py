"""The `mixtures` set: a primary talker (near, louder, dry) with 1–3 background talkers (farther:
6–25 dB lower, reverberant, band-limited), with and without overlap, over room noise; some with an
enrollment clip of the primary. Exact ground truth: RTTM, per-10 ms frame labels, background
transcripts. Built from the bona fide `wide` track of the speech set."""
import csv
import json
import math
import os
from collections import defaultdict

import numpy as np

from .common import atomic_write_text, parallel_map, read_wav, rng_for, sox_read, write_wav
from .manifest import write_manifests

RATE = 16000
HOP = RATE // 100
# Speaker-disjoint halves: models train on `train` talkers, redaction is measured on `test` talkers.
TRAIN_SPEAKER_PREFIXES = ("fillets-cs-", "carlo-flora", "ivrvoice-ru")
MIXTURES_AT_SCALE_1 = 200
ACTIVITY_BELOW_PEAK_DB = 35.0
FRAME_CODES = {"none": "N", "primary": "P", "background": "B", "overlap": "O"}


def mixture_split(speaker):
    return "train" if speaker.startswith(TRAIN_SPEAKER_PREFIXES) else "test"


def load_bonafide(out_root):
    path = os.path.join(out_root, "speech", "manifest.wide.csv")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: build the speech set first (Corpora/build --set speech mixtures)")
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["label"] == "bonafide"]
    for r in rows:
        r["abs_path"] = os.path.join(out_root, "speech", r["path"])
    return rows


def activity(x):
    """Per-10 ms frame activity of a clean source: within 35 dB of its loudest frame."""
    frames = len(x) // HOP
    e = (x[:frames * HOP].reshape(frames, HOP) ** 2).mean(axis=1) + 1e-20
    return 10 * np.log10(e) > 10 * np.log10(e.max()) - ACTIVITY_BELOW_PEAK_DB


def runs(mask):
    """(start_frame, end_frame) runs of True."""
    out, start = [], None
    for i, v in enumerate(list(mask) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start, i))
            start = None
    return out


def plan(index, seed, speakers, utterances):
    rng = rng_for(seed, "mixture", index)
    split = "train" if index % 2 == 0 else "test"
    pool = sorted(s for s in speakers if mixture_split(s) == split and len(utterances[s]) >= 8)
    primary = pool[rng.integers(len(pool))]
    others = [s for s in pool if s != primary]
    if not others:  # tiny corpora: any other talker of the split will do as a background talker
        others = sorted(s for s in speakers if mixture_split(s) == split and s != primary and utterances[s])
    n_bg = int(rng.integers(1, 4))
    bg_speakers = [others[i] for i in rng.choice(len(others), size=min(n_bg, len(others)), replace=False)]
    p_utts = [utterances[primary][i] for i in rng.choice(len(utterances[primary]), size=min(8, len(utterances[primary])), replace=False)]
    n_primary = int(rng.integers(3, 7))
    enroll = rng.random() < 0.5
    spec = dict(id=f"mix-{split}-{index:04d}", split=split, overlap="some" if index % 4 >= 2 else "none",
                primary=primary, primary_utts=p_utts[:n_primary],
                enrollment_utts=p_utts[n_primary:n_primary + 3] if enroll else [],
                room_noise_dbfs=float(rng.uniform(-55, -42)), backgrounds=[])
    for s in bg_speakers:
        n_utts = int(rng.integers(1, 3))
        picks = rng.choice(len(utterances[s]), size=min(n_utts, len(utterances[s])), replace=False)
        for i in picks:
            spec["backgrounds"].append(dict(
                speaker=s, utt=utterances[s][i], level_db=float(rng.uniform(-25, -6)),
                reverberance=int(rng.integers(40, 95)), band=str(["300-3400", "200-3000", "100-2500"][rng.integers(3)]),
                gap=float(rng.uniform(0.3, 1.0)), position=float(rng.random())))
    spec["gaps"] = [float(g) for g in rng.uniform(0.4, 1.2, size=n_primary + len(spec["backgrounds"]) + 1)]
    return spec


def render(spec, out_dir, seed):
    base = os.path.join(out_dir, spec["split"], spec["id"])
    wav, rttm, labels, meta = base + ".wav", base + ".rttm", base + ".frames.txt", base + ".json"
    enroll_path = base + ".enroll.wav" if spec["enrollment_utts"] else ""
    if all(os.path.exists(p) for p in (wav, rttm, labels, meta)):
        return json.load(open(meta, encoding="utf-8"))["row"]
    primary = [read_wav(u["abs_path"])[0][:, 0] for u in spec["primary_utts"]]
    backgrounds = []
    for b in spec["backgrounds"]:
        x = sox_read(b["utt"]["abs_path"], RATE, ["reverb", str(b["reverberance"]), "sinc", b["band"]])
        x *= 10 ** (b["level_db"] / 20)  # sources are all at −26 dBFS: level_db is relative to the primary
        backgrounds.append(x)
    # Timeline: primary utterances in order; with overlap "none" the background utterances take
    # their own turns between them, with overlap "some" they start anywhere.
    placements = []  # (kind, index, start_sample)
    t = int(spec["gaps"][0] * RATE)
    gi = 1
    if spec["overlap"] == "none":
        turns = [("primary", i) for i in range(len(primary))]
        for j, b in enumerate(spec["backgrounds"]):
            turns.insert(1 + int(b["position"] * len(turns)), ("background", j))
        for kind, i in turns:
            placements.append((kind, i, t))
            t += len(primary[i] if kind == "primary" else backgrounds[i]) + int(spec["gaps"][gi] * RATE)
            gi += 1
        total = t
    else:
        for i, x in enumerate(primary):
            placements.append(("primary", i, t))
            t += len(x) + int(spec["gaps"][gi] * RATE)
            gi += 1
        total = t
        for j, (b, x) in enumerate(zip(spec["backgrounds"], backgrounds)):
            placements.append(("background", j, int(b["position"] * max(1, total - len(x)))))
        total = max([total] + [p[2] + len(backgrounds[p[1]]) for p in placements if p[0] == "background"])
    frames = total // HOP + 1
    total = frames * HOP
    mix = np.zeros(total)
    primary_active = np.zeros(frames, bool)
    background_active = np.zeros(frames, bool)
    speaker_active = defaultdict(lambda: np.zeros(frames, bool))
    texts = []
    for kind, i, start in sorted(placements, key=lambda p: p[2]):
        x = primary[i] if kind == "primary" else backgrounds[i]
        mix[start:start + len(x)] += x
        act = activity(x)
        f0 = start // HOP
        span = slice(f0, f0 + len(act))
        speaker = spec["primary"] if kind == "primary" else spec["backgrounds"][i]["speaker"]
        speaker_active[speaker][span] |= act[:frames - f0]
        (primary_active if kind == "primary" else background_active)[span] |= act[:frames - f0]
        if kind == "background":
            b = spec["backgrounds"][i]
            texts.append(dict(speaker=b["speaker"], text=b["utt"]["text"], start=round(start / RATE, 3),
                              end=round((start + len(x)) / RATE, 3), level_db=round(b["level_db"], 1),
                              reverberance=b["reverberance"], band_hz=b["band"], language=b["utt"]["language"]))
    # Room noise: pink (1/f) noise, seeded.
    rng = rng_for(seed, "room-noise", spec["id"])
    white = np.fft.rfft(rng.standard_normal(total))
    shaping = 1 / np.sqrt(np.maximum(np.arange(len(white)), 1))
    pink = np.fft.irfft(white * shaping, n=total)
    pink *= 10 ** (spec["room_noise_dbfs"] / 20) / (np.sqrt(np.mean(pink ** 2)) + 1e-20)
    mix += pink
    write_wav(wav, mix, RATE)
    codes = np.where(primary_active & background_active, "O",
                     np.where(primary_active, "P", np.where(background_active, "B", "N")))
    atomic_write_text(labels, "".join(codes) + "\n")
    lines = []
    for speaker in sorted(speaker_active):
        for a, b in runs(speaker_active[speaker]):
            lines.append(f"SPEAKER {spec['id']} 1 {a / 100:.2f} {(b - a) / 100:.2f} <NA> <NA> {speaker} <NA> <NA>")
    atomic_write_text(rttm, "\n".join(sorted(lines, key=lambda l: float(l.split()[3]))) + "\n")
    if enroll_path:
        parts = [read_wav(u["abs_path"])[0][:, 0] for u in spec["enrollment_utts"]]
        gap = np.zeros(int(0.3 * RATE))
        write_wav(enroll_path, np.concatenate([np.concatenate([p, gap]) for p in parts]), RATE)
    counts = {k: int((codes == v).sum()) for k, v in FRAME_CODES.items()}
    row = dict(
        id=spec["id"], path=os.path.relpath(wav, out_dir), label="bonafide", source="speech set (wide track)",
        engine="human", voice=spec["primary"], language=spec["primary_utts"][0]["language"],
        speaker=spec["primary"], gender=spec["primary_utts"][0]["gender"], channel="mixture-16k",
        sample_rate_orig=RATE, duration=f"{total / RATE:.3f}", text=" ".join(u["text"] for u in spec["primary_utts"]),
        split=spec["split"], licence="; ".join(sorted({u["licence"] for u in spec["primary_utts"]} |
                                                     {b["utt"]["licence"] for b in spec["backgrounds"]})),
        overlap=spec["overlap"], n_background=len({b["speaker"] for b in spec["backgrounds"]}),
        background_speakers=" ".join(sorted({b["speaker"] for b in spec["backgrounds"]})),
        background_level_db=" ".join(f"{b['level_db']:.1f}" for b in spec["backgrounds"]),
        background_text=" | ".join(t["text"] for t in texts),
        rttm=os.path.relpath(rttm, out_dir), frame_labels=os.path.relpath(labels, out_dir),
        enrollment=os.path.relpath(enroll_path, out_dir) if enroll_path else "",
        frames_primary=counts["primary"], frames_background=counts["background"],
        frames_overlap=counts["overlap"], frames_none=counts["none"])
    atomic_write_text(meta, json.dumps(dict(row=row, backgrounds=texts, primary_utterances=[u["id"] for u in spec["primary_utts"]],
                                            enrollment_utterances=[u["id"] for u in spec["enrollment_utts"]]),
                                       ensure_ascii=False, indent=1) + "\n")
    return row


def build(out_root, seed, scale, jobs, quiet=False):
    out_dir = os.path.join(out_root, "mixtures")
    rows = load_bonafide(out_root)
    utterances = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["id"]):
        if float(r["duration"]) >= 0.8:
            utterances[r["speaker"]].append(r)
    n = max(4, math.ceil(MIXTURES_AT_SCALE_1 * scale))
    specs = [plan(i, seed, list(utterances), utterances) for i in range(n)]
    result = parallel_map(lambda s: render(s, out_dir, seed), specs, jobs, "mixtures", quiet)
    result.sort(key=lambda r: r["id"])
    write_manifests(out_dir, {"mix": result}, set_name="mixtures")
    return result
