"""The `mixtures` set: a primary talker (near, louder, dry) with 1–3 background talkers (farther:
6–25 dB lower, reverberant, band-limited), with and without overlap, over room noise; some with an
enrollment clip of the primary. Exact ground truth: RTTM, per-10 ms frame labels, background
transcripts. Built from the bona fide `wide` track of the speech set."""
import csv
import json
import math
import os
import subprocess
from collections import defaultdict

import numpy as np

from .common import atomic_write_text, parallel_map, read_wav, rng_for, sox_read, write_wav
from .manifest import write_manifests

RATE = 16000
HOP = RATE // 100
# Speaker-disjoint halves: models train on `train` talkers, redaction is measured on `test` talkers.
TRAIN_SPEAKER_PREFIXES = ("fillets-cs-", "carlo-flora", "ivrvoice-ru")
MIXTURES_AT_SCALE_1 = 200
# The harder mixtures (manifest.hard.*): each one tests one condition; every one has an enrollment clip.
HARD_CONDITIONS = ("far", "language", "broadcast", "crowd", "backchannel", "channel")
HARD_AT_SCALE_1 = 120
# Enrollment channels of the `channel` condition (the mixture itself stays wideband).
ENROLLMENT_CHANNELS = ("telephone-g711", "telephone-gsm", "phone-mic")
ACTIVITY_BELOW_PEAK_DB = 35.0
SOURCE_LEVEL_DBFS = -26.0  # the speech set's normalised level of every utterance
FRAME_CODES = {"none": "N", "primary": "P", "background": "B", "overlap": "O"}


def speaker_cast(speaker):
    """The group of talker names that may be one person (the `cast` columns). The characters of one Fish Fillets dub
    (`fillets-<language>-<character>`) are voiced by a small cast, so two of them may share an actor: they form one
    group, `fillets-<language>`. Every other talker is its own group. Training and evaluation draw "absent" talkers
    from other casts only (every one of the ten highest presence scores of supposedly absent talkers on the train
    mixtures paired two Czech Fish Fillets characters)."""
    if speaker.startswith("fillets-"):
        return "-".join(speaker.split("-")[:2])
    return speaker


def with_casts(row):
    """The row with `cast` (of the primary talker) and `background_casts` (space-separated) columns."""
    row["cast"] = speaker_cast(row["speaker"])
    row["background_casts"] = " ".join(sorted({speaker_cast(s) for s in row["background_speakers"].split()}))
    return row


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
    rendered = [render_background(b) for b in spec["backgrounds"]]
    backgrounds = [x for x, _ in rendered]
    background_activity = [a for _, a in rendered]
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
            if b.get("kind") == "broadcast":  # a TV or radio left on: from near the start to the end
                start = int(b["position"] * RATE)
                backgrounds[j] = x[:max(HOP, total - start)]
                placements.append(("background", j, start))
            else:
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
        act = activity(x) if kind == "primary" else background_activity[i][:len(x) // HOP]
        f0 = start // HOP
        span = slice(f0, f0 + len(act))
        speaker = spec["primary"] if kind == "primary" else spec["backgrounds"][i]["speaker"]
        speaker_active[speaker][span] |= act[:frames - f0]
        (primary_active if kind == "primary" else background_active)[span] |= act[:frames - f0]
        if kind == "background":
            b = spec["backgrounds"][i]
            texts.append(dict(speaker=b["speaker"], text=background_text(b, len(x)), start=round(start / RATE, 3),
                              end=round((start + len(x)) / RATE, 3), level_db=round(b["level_db"], 1),
                              reverberance=b["reverberance"], band_hz=b["band"], language=b["utt"]["language"],
                              kind=b.get("kind", "utterance")))
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
        enrollment = np.concatenate([np.concatenate([p, gap]) for p in parts])
        if spec.get("enrollment_channel"):
            enrollment = through_channel(enrollment, spec["enrollment_channel"])
        write_wav(enroll_path, enrollment, RATE)
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
    if "condition" in spec:
        row.update(condition=spec["condition"], enrollment_channel=spec.get("enrollment_channel") or "same",
                   background_languages=" ".join(sorted({b["utt"]["language"] for b in spec["backgrounds"]})),
                   background_kind=" ".join(sorted({b.get("kind", "utterance") for b in spec["backgrounds"]})))
    atomic_write_text(meta, json.dumps(dict(row=row, backgrounds=texts, primary_utterances=[u["id"] for u in spec["primary_utts"]],
                                            enrollment_utterances=[u["id"] for u in spec["enrollment_utts"]]),
                                       ensure_ascii=False, indent=1) + "\n")
    return row


def background_effects(b):
    """The sox effects that place a background source: its room (reverb) and band, or the given chain."""
    return b.get("effects") or ["reverb", str(b["reverberance"]), "sinc", b["band"]]


def render_background(b):
    """One background source at its level relative to the primary (sources are all at −26 dBFS), and its per-frame
    activity. The harder set labels a reverberated source by its dry signal (when the talker speaks, as a close-talk
    microphone would say), so reverberation tails 20–35 dB down do not count as speech to remove; the first set
    labels the processed source."""
    kind = b.get("kind", "utterance")
    if kind == "broadcast":  # one talker's utterances back to back, through a small loudspeaker and a room
        gap = np.zeros(int(b["gap"] * RATE))
        dry = np.concatenate([np.concatenate([read_wav(u["abs_path"])[0][:, 0], gap]) for u in b["utts"]])
        x = sox_pipe(dry, background_effects(b))
    else:
        dry = read_wav(b["utt"]["abs_path"])[0][:, 0]
        x = sox_read(b["utt"]["abs_path"], RATE, background_effects(b))
        if kind == "backchannel" and b.get("cut"):  # the first word-sized piece of a longer utterance
            act = np.flatnonzero(activity(x))
            first = act[0] * HOP if len(act) else 0
            x = x[max(0, first - HOP * 3):first + int(b["cut"] * RATE)]
            fade = min(160, len(x))
            x[len(x) - fade:] *= np.linspace(1, 0, fade)
            dry = None  # a short, nearly dry piece: labelled by itself
    if b.get("relative_to_active"):  # harder set: level_db is the level of the processed source's active frames
        x = x * 10 ** ((SOURCE_LEVEL_DBFS - active_level_dbfs(x)) / 20)
    frames = len(x) // HOP
    if b.get("relative_to_active") and dry is not None:
        delay = int(b.get("pre_delay_ms", 0)) // 10
        dry_activity = activity(dry)
        labels = np.zeros(frames, bool)
        n = max(0, min(frames - delay, len(dry_activity)))
        labels[delay:delay + n] = dry_activity[:n]
    else:
        labels = activity(x)
    return x * 10 ** (b["level_db"] / 20), labels


def active_level_dbfs(x):
    """Mean power of a source's active frames (within 35 dB of its loudest 10 ms frame), dBFS."""
    frames = len(x) // HOP
    e = (x[:frames * HOP].reshape(frames, HOP) ** 2).mean(axis=1)
    return 10 * np.log10(e[activity(x)[:frames]].mean() + 1e-20)


def background_text(b, samples):
    """The words of a background source as placed (a broadcast: the utterances that started in it)."""
    if b.get("kind") == "broadcast":
        out, t = [], 0.0
        for u in b["utts"]:
            if t * RATE >= samples:
                break
            out.append(u["text"])
            t += float(u["duration"]) + b["gap"]
        return " ".join(out)
    if b.get("kind") == "backchannel" and b.get("cut"):
        return ""  # a cut piece: its words are not known
    return b["utt"]["text"]


def sox_pipe(x, effects, in_args=(), out_args=()):
    """Runs float samples at 16 kHz through a sox effects chain (optionally a format in between) and back."""
    cmd = ["sox", "-V1", "-t", "f32", "-r", str(RATE), "-c", "1", "-", *in_args, "-t", "f32", "-",
           *effects] if not out_args else None
    raw = np.asarray(x, dtype="<f4").tobytes()
    if cmd:
        out = subprocess.run(cmd, input=raw, check=True, capture_output=True).stdout
    else:  # encode to a lossy format, then decode back to float at 16 kHz
        encoded = subprocess.run(["sox", "-V1", "-t", "f32", "-r", str(RATE), "-c", "1", "-", *out_args, "-", *effects],
                                 input=raw, check=True, capture_output=True).stdout
        out = subprocess.run(["sox", "-V1", "-t", out_args[out_args.index("-t") + 1], *in_args, "-", "-t", "f32", "-r",
                              str(RATE), "-"], input=encoded, check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype="<f4").astype(np.float64)


def through_channel(x, channel):
    """An enrollment clip as recorded on another channel than the mixtures: a G.711 µ-law or GSM telephone call
    (8 kHz, 300–3400 Hz) or a cheap phone microphone (200–7000 Hz, compressed, slightly distorted)."""
    if channel == "telephone-g711":
        return sox_pipe(x, ["sinc", "300-3400", "rate", "8000"], in_args=["-r", "8000", "-c", "1", "-e", "u-law", "-b", "8"],
                        out_args=["-t", "raw", "-r", "8000", "-e", "u-law", "-b", "8"])
    if channel == "telephone-gsm":
        return sox_pipe(x, ["sinc", "300-3400", "rate", "8000"], in_args=["-r", "8000", "-c", "1"],
                        out_args=["-t", "gsm", "-r", "8000"])
    if channel == "phone-mic":
        return sox_pipe(x, ["sinc", "200-7000", "compand", "0.01,0.2", "-70,-70,-50,-30,-20,-14,0,-8", "-4",
                            "overdrive", "4", "gain", "-n", "-20"])
    raise ValueError(f"unknown enrollment channel {channel}")


def plan_hard(index, seed, speakers, utterances, short):
    """One harder mixture testing one condition of HARD_CONDITIONS (cycling), on the split's talkers:
    `far` background talkers 10–25 dB down in a large wet room; `language` every background utterance in another
    language than the primary's; `broadcast` a TV/radio left on (one talker's utterances back to back through a small
    loudspeaker, compressed, under the whole recording); `crowd` three background talkers (four in all), overlapping;
    `backchannel` one or two nearby listeners' short interjections (utterances under 0.8 s, or the first word-sized
    piece of one), overlapping or between turns; `channel` the enrollment clip recorded over a telephone (G.711,
    GSM) or a cheap phone microphone while the mixture stays wideband."""
    rng = rng_for(seed, "hard-mixture", index)
    condition = HARD_CONDITIONS[(index // 2) % len(HARD_CONDITIONS)]
    split = "train" if index % 2 == 0 else "test"
    pool = sorted(s for s in speakers if mixture_split(s) == split and len(utterances[s]) >= 8)
    primary = pool[rng.integers(len(pool))]
    first = utterances[primary][rng.integers(len(utterances[primary]))]
    language = first["language"]
    own = [u for u in utterances[primary] if u["language"] == language]
    p_utts = [own[i] for i in rng.choice(len(own), size=min(9, len(own)), replace=False)]
    n_primary = int(rng.integers(3, 7))
    others = [s for s in pool if s != primary] or sorted(s for s in speakers if mixture_split(s) == split and s != primary and utterances[s])
    if condition == "language":
        others = [s for s in others if any(u["language"] != language for u in utterances[s])] or others
    n_bg = 3 if condition == "crowd" else (1 if condition == "broadcast" else int(rng.integers(1, 3)))
    bg_speakers = [others[i] for i in rng.choice(len(others), size=min(n_bg, len(others)), replace=False)]
    overlap = "some" if condition in ("broadcast", "backchannel") or (index // 12) % 2 == 1 else "none"
    spec = dict(id=f"hard-{split}-{index:04d}", split=split, condition=condition, overlap=overlap,
                primary=primary, primary_utts=p_utts[:n_primary], enrollment_utts=p_utts[n_primary:n_primary + 3],
                enrollment_channel=str(ENROLLMENT_CHANNELS[rng.integers(len(ENROLLMENT_CHANNELS))]) if condition == "channel" else None,
                room_noise_dbfs=float(rng.uniform(-55, -42)), backgrounds=[])
    for s in bg_speakers:
        choices = utterances[s]
        if condition == "language":
            choices = [u for u in choices if u["language"] != language] or choices
        base = dict(speaker=s, relative_to_active=True, level_db=float(rng.uniform(-25, -6)), reverberance=int(rng.integers(40, 95)),
                    band=str(["300-3400", "200-3000", "100-2500"][rng.integers(3)]), gap=float(rng.uniform(0.3, 1.0)),
                    position=float(rng.random()))
        if condition == "broadcast":
            picks = rng.choice(len(choices), size=min(20, len(choices)), replace=False)
            spec["backgrounds"].append(dict(base, kind="broadcast", utt=choices[picks[0]], utts=[choices[i] for i in picks],
                                            level_db=float(rng.uniform(-22, -12)), gap=float(rng.uniform(0.2, 0.5)),
                                            position=float(rng.uniform(0, 1.5)), reverberance=30, band="120-7000",
                                            effects=["sinc", "120-7000", "compand", "0.01,0.15", "-70,-70,-40,-20,0,-6",
                                                     "-3", "reverb", "30", "50", "40"]))
        elif condition == "backchannel":
            shorts = short.get(s, [])
            for _ in range(int(rng.integers(3, 7))):
                if shorts and rng.random() < 0.7:
                    u, cut = shorts[rng.integers(len(shorts))], None
                else:
                    u, cut = choices[rng.integers(len(choices))], float(rng.uniform(0.25, 0.6))
                spec["backgrounds"].append(dict(base, kind="backchannel", utt=u, cut=cut, level_db=float(rng.uniform(-12, -3)),
                                                reverberance=int(rng.integers(10, 40)), band="80-7000",
                                                position=float(rng.random())))
        else:
            for i in rng.choice(len(choices), size=min(int(rng.integers(1, 3)), len(choices)), replace=False):
                b = dict(base, utt=choices[i], level_db=float(rng.uniform(-25, -6)), reverberance=int(rng.integers(40, 95)),
                         position=float(rng.random()))
                if condition == "far":  # wet only, large room, 10–25 dB down
                    b.update(level_db=float(rng.uniform(-25, -10)), reverberance=int(rng.integers(80, 100)), pre_delay_ms=20,
                             effects=["reverb", "-w", str(int(rng.integers(80, 100))), "50", "100", "100", "20", "0",
                                      "sinc", b["band"]])
                spec["backgrounds"].append(b)
    spec["gaps"] = [float(g) for g in rng.uniform(0.4, 1.2, size=n_primary + len(spec["backgrounds"]) + 1)]
    return spec


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
    result = sorted((with_casts(r) for r in result), key=lambda r: r["id"])
    short = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["id"]):
        if float(r["duration"]) < 0.8:
            short[r["speaker"]].append(r)
    n_hard = max(len(HARD_CONDITIONS) * 2, math.ceil(HARD_AT_SCALE_1 * scale))
    hard_specs = [plan_hard(i, seed, list(utterances), utterances, short) for i in range(n_hard)]
    hard = parallel_map(lambda s: render(s, out_dir, seed), hard_specs, jobs, "harder mixtures", quiet)
    hard = sorted((with_casts(r) for r in hard), key=lambda r: r["id"])
    write_manifests(out_dir, {"mix": result, "hard": hard}, set_name="mixtures")
    return result + hard
