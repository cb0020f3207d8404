"""The committed test fixtures: a dozen speech clips per label, two mixtures with ground truth and
two music clips, copied (as FLAC) from a built corpus with their manifests and attributions."""
import csv
import os
import shutil
import subprocess

from .common import CORPORA_DIR, atomic_write_text, rng_for
from .manifest import to_csv, to_jsonl

FIXTURES_DIR = os.path.join(CORPORA_DIR, "fixtures")


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def to_flac(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    subprocess.run(["sox", "-V1", src, "-b", "16", dst + ".tmp.flac"], check=True, capture_output=True)
    os.replace(dst + ".tmp.flac", dst)
    out = subprocess.run(["soxi", "-D", dst], check=True, capture_output=True, text=True).stdout
    return f"{float(out):.3f}"


def pick_spread(rows, key, n, seed, tag):
    """n rows spread over the distinct values of `key` (round robin over a seeded order)."""
    groups = {}
    for r in sorted(rows, key=lambda r: r["id"]):
        groups.setdefault(r[key], []).append(r)
    order = {k: [g[i] for i in rng_for(seed, tag, k).permutation(len(g))] for k, g in groups.items()}
    chosen, keys = [], sorted(order)
    while len(chosen) < n and any(order.values()):
        for k in keys:
            if order[k] and len(chosen) < n:
                chosen.append(order[k].pop(0))
    return sorted(chosen, key=lambda r: r["id"])


def build(out_root, seed, scale, jobs, quiet=False):
    speech = read_csv(os.path.join(out_root, "speech", "manifest.wide.csv"))
    bona = pick_spread([r for r in speech if r["label"] == "bonafide"], "speaker", 12, seed, "fx-bf")
    spoof = pick_spread([r for r in speech if r["label"] == "spoof" and float(r["duration"]) < 4], "engine", 12, seed, "fx-sp")
    rows = []
    for r in bona + spoof:
        dst = os.path.join(FIXTURES_DIR, "speech", "wide", r["label"], r["id"] + ".flac")
        row = dict(r, path=os.path.relpath(dst, os.path.join(FIXTURES_DIR, "speech")))
        row["duration"] = to_flac(os.path.join(out_root, "speech", r["path"]), dst)
        rows.append(row)
    atomic_write_text(os.path.join(FIXTURES_DIR, "speech", "manifest.csv"), to_csv(rows))
    atomic_write_text(os.path.join(FIXTURES_DIR, "speech", "manifest.jsonl"), to_jsonl(rows))

    mixes = read_csv(os.path.join(out_root, "mixtures", "manifest.mix.csv"))
    chosen = []
    for overlap in ("none", "some"):
        cands = sorted((r for r in mixes if r["overlap"] == overlap and r["split"] == "test" and r["enrollment"]),
                       key=lambda r: (float(r["duration"]), r["id"]))
        chosen.append(cands[0])
    mix_rows = []
    for r in chosen:
        row = dict(r)
        base = os.path.join(FIXTURES_DIR, "mixtures", r["id"])
        row["duration"] = to_flac(os.path.join(out_root, "mixtures", r["path"]), base + ".flac")
        row["path"] = r["id"] + ".flac"
        to_flac(os.path.join(out_root, "mixtures", r["enrollment"]), base + ".enroll.flac")
        row["enrollment"] = r["id"] + ".enroll.flac"
        for col, ext in (("rttm", ".rttm"), ("frame_labels", ".frames.txt")):
            shutil.copyfile(os.path.join(out_root, "mixtures", r[col]), base + ext)
            row[col] = r["id"] + ext
        shutil.copyfile(os.path.join(out_root, "mixtures", r["path"][:-4] + ".json"), base + ".json")
        mix_rows.append(row)
    atomic_write_text(os.path.join(FIXTURES_DIR, "mixtures", "manifest.csv"), to_csv(mix_rows))

    music = read_csv(os.path.join(out_root, "music", "manifest.orig.csv"))
    short = sorted((r for r in music if r["kind"] == "music"), key=lambda r: (float(r["duration"]), r["id"]))[:2]
    music_rows = []
    for r in short:
        dst = os.path.join(FIXTURES_DIR, "music", r["id"] + ".flac")
        row = dict(r, path=r["id"] + ".flac")
        row["duration"] = to_flac(os.path.join(out_root, "music", r["path"]), dst)
        music_rows.append(row)
    atomic_write_text(os.path.join(FIXTURES_DIR, "music", "manifest.csv"), to_csv(music_rows))

    attributions = {(r["licence"], r.get("attribution", "")) for r in rows + music_rows if r.get("attribution")}
    by_speaker = {r["speaker"]: (r["licence"], r["attribution"]) for r in speech if r["label"] == "bonafide"}
    for r in mix_rows:
        for speaker in [r["speaker"], *r["background_speakers"].split()]:
            attributions.add(by_speaker[speaker])
    attributions = sorted(attributions)
    lines = ["# Attributions of the generated fixtures", "",
             "Made by `Corpora/build --set fixtures` from a corpus built with the default seed. "
             "The list covers the speech and music clips and every talker heard in the two mixtures.", "",
             "| licence | attribution |", "|---|---|"]
    lines += [f"| {lic} | {att} |" for lic, att in attributions]
    atomic_write_text(os.path.join(FIXTURES_DIR, "ATTRIBUTIONS.md"), "\n".join(lines) + "\n")
    return rows + mix_rows + music_rows
