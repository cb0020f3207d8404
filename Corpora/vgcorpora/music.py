"""The `music` set: real music and real speech clips at 8–48 kHz, mono and stereo, 2 s to 3 min,
for watermark robustness and quality tests."""
import glob
import os
import subprocess
import tempfile

from . import sources
from .common import duration_of, parallel_map, rng_for
from .manifest import write_manifests

FOF = "/usr/share/games/fretsonfire/data/songs"
MOH = "/usr/share/asterisk/moh"

MUSIC_SOURCES = {
    # id: (files mixed together, package, licence, attribution)
    "muldjord-armygeddon": ([f"{FOF}/muldjord/armygeddon/song.ogg", f"{FOF}/muldjord/armygeddon/guitar.ogg"],
                            "fretsonfire-songs-muldjord", "CC-BY-SA-3.0", "\"Armygeddon\" by El Senator (Muldjord), CC BY-SA 3.0"),
    "muldjord-chaos-god": ([f"{FOF}/muldjord/chaos_god/song.ogg", f"{FOF}/muldjord/chaos_god/guitar.ogg"],
                           "fretsonfire-songs-muldjord", "CC-BY-SA-3.0", "\"Chaos God\" by El Senator (Muldjord), CC BY-SA 3.0"),
    "sectoid-feelings": ([f"{FOF}/sectoid/Feelings/song.ogg", f"{FOF}/sectoid/Feelings/guitar.ogg"],
                         "fretsonfire-songs-sectoid", "GPL-2+", "\"Feelings\" by Sectoid, GPL"),
    "sectoid-escape": ([f"{FOF}/sectoid/Escape from chaosland/song.ogg", f"{FOF}/sectoid/Escape from chaosland/guitar.ogg"],
                       "fretsonfire-songs-sectoid", "GPL-2+", "\"Escape from Chaosland\" by Sectoid, GPL"),
    "moh-cold-day": ([f"{MOH}/macroform-cold_day.wav"], "asterisk-moh-opsound-wav", "CC-BY-SA-3.0",
                     "\"Cold Day\" by Paul Shuler (Macroform), CC BY-SA 3.0"),
    "moh-morning-coffee": ([f"{MOH}/manolo_camp-morning_coffee.wav"], "asterisk-moh-opsound-wav", "CC-BY-SA-3.0",
                           "\"Morning Coffee\" by Manolo Camp, CC BY-SA 3.0"),
}

# (kind, source, sample rate, channels, seconds). Includes the watermark benchmark's three clips:
# 3 min 44.1 kHz stereo music, 60 s 16 kHz speech, 30 s 8 kHz speech.
CLIPS = [
    ("music", "muldjord-armygeddon", 44100, 2, 180), ("music", "sectoid-feelings", 48000, 2, 60),
    ("music", "muldjord-chaos-god", 44100, 1, 30), ("music", "sectoid-escape", 22050, 2, 10),
    ("music", "muldjord-armygeddon", 16000, 1, 10), ("music", "moh-cold-day", 8000, 1, 30),
    ("music", "moh-morning-coffee", 8000, 1, 120), ("music", "sectoid-feelings", 48000, 1, 5),
    ("music", "muldjord-chaos-god", 44100, 2, 2), ("music", "sectoid-escape", 16000, 2, 30),
    ("music", "muldjord-chaos-god", 22050, 1, 60), ("music", "sectoid-feelings", 48000, 2, 180),
    ("speech", "allison-smith/en", 16000, 1, 60), ("speech", "june-wallack/fr", 8000, 1, 30),
    ("speech", "carlo-flora/it", 48000, 1, 10), ("speech", "fillets-cs-small/cs", 44100, 2, 5),
    ("speech", "fillets-nl-big/nl", 22050, 1, 2), ("speech", "ivrvoice-ru/ru", 16000, 1, 30),
    ("speech", "paola-dal-zot/it", 8000, 1, 180), ("speech", "fillets-cs-big/cs", 48000, 2, 60),
]


def speech_source(spec, seed, seconds):
    """Real utterances of one speaker, in a seeded order, until `seconds` (+ margin) are covered."""
    speaker, lang = spec.split("/")
    items = sorted((it for it in sources.bonafide_items() if it["speaker"] == speaker and it["language"] == lang),
                   key=lambda it: it["id"])
    order = rng_for(seed, "music-speech", spec).permutation(len(items))
    chosen, total = [], 0.0
    for i in order:
        chosen.append(items[i])
        total += duration_of(items[i]["orig_path"]) + 0.3
        if total > seconds + 2:
            break
    return chosen


def make_clip(clip, out_dir, seed):
    kind, source, rate, channels, seconds = clip
    cid = f"{kind}-{source.replace('/', '-')}-{rate}-{channels}ch-{seconds}s"
    path = os.path.join(out_dir, kind, cid + ".wav")
    row = dict(id=cid, path=os.path.relpath(path, out_dir), label="bonafide", kind=kind, engine="human",
               channel="original", sample_rate=rate, channels=channels, split="eval")
    with tempfile.TemporaryDirectory() as tmp:
        if kind == "music":
            files, package, licence, attribution = MUSIC_SOURCES[source]
            total = min(duration_of(f) for f in files)
            offset = float(rng_for(seed, "music-offset", cid).uniform(0, max(0.0, total - seconds - 1)))
            inputs = ["-m", *files] if len(files) > 1 else files
            row.update(source=f"{package}={sources.package_version(package)}", voice=source, language="zxx",
                       speaker=source, gender="U", text="", licence=licence, attribution=attribution,
                       sample_rate_orig=int(subprocess.run(["soxi", "-r", files[0]], capture_output=True, text=True).stdout),
                       offset=f"{offset:.3f}")
        else:
            items = speech_source(source, seed, seconds)
            # Concatenate utterances with 0.3 s gaps.
            parts = []
            for k, it in enumerate(items):
                part = os.path.join(tmp, f"{k}.wav")
                subprocess.run(["sox", "-V1", it["orig_path"], "-r", "48000", "-c", "1", "-b", "16", part, "pad", "0", "0.3"],
                               check=True, capture_output=True)
                parts.append(part)
            joined = os.path.join(tmp, "joined.wav")
            subprocess.run(["sox", "-V1", *parts, joined], check=True, capture_output=True)
            inputs, offset = [joined], 0.0
            first = items[0]
            row.update(source=first["source"], voice=first["speaker"], language=first["language"],
                       speaker=first["speaker"], gender=first["gender"], text=" ".join(it["text"] for it in items),
                       licence=first["licence"], attribution=first["attribution"],
                       sample_rate_orig=int(subprocess.run(["soxi", "-r", first["orig_path"]], capture_output=True, text=True).stdout),
                       offset="0.000")
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp_out = os.path.join(tmp, "out.wav")
            subprocess.run(["sox", "-V1", *inputs, "-r", str(rate), "-c", str(channels), "-b", "16", tmp_out,
                            "trim", f"{offset:.3f}", str(seconds), "norm", "-1" if kind == "music" else "-3"],
                           check=True, capture_output=True)
            os.replace(tmp_out, path)
    row["duration"] = f"{duration_of(path):.3f}"
    return row


def build(out_root, seed, scale, jobs, quiet=False):
    out_dir = os.path.join(out_root, "music")
    clips = CLIPS if scale >= 1 else [c for c in CLIPS if c[4] <= 60] or CLIPS[:4]
    rows = parallel_map(lambda c: make_clip(c, out_dir, seed), clips, jobs, "music: clips", quiet)
    rows.sort(key=lambda r: r["id"])
    write_manifests(out_dir, {"orig": rows}, set_name="music")
    return rows
