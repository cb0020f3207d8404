"""The `speech` set: bona fide human utterances and spoofs of the same transcripts by every
synthesizer, normalised into `wide` and `tel` tracks, with speaker/engine-disjoint splits."""
import math
import os
import sys
from collections import defaultdict

import numpy as np

from . import audio_meta, channels, sources, synth, vocoders
from .common import Progress, parallel_map, process_map, rng_for, sox_read, stable_hash, write_wav, read_wav
from .manifest import write_manifests

# Speaker-disjoint splits for human talkers. Test speakers and test engines appear nowhere else.
SPEAKER_SPLIT = {
    "allison-smith": "test",          # en + es
    "june-wallack": "dev",            # fr
    "paola-dal-zot": "dev",           # it
    "carlo-flora": "train",           # it
    "ivrvoice-ru": "train",           # ru
}
FILLETS_SPLIT = {"cs": "train", "nl": "dev"}
# Engines: test engines are unseen in train/dev; the others serve train and dev.
ENGINE_SPLIT = {"espeak-ng": "traindev", "festival": "traindev", "flite": "test", "piper": "test", "vocaltractlab": "traindev",
                "freetts": "traindev",
                # Copy-synthesis engines follow the same rule: the test speakers' recordings are resynthesised only by
                # engines that resynthesise nobody else.
                "world": "traindev", "sptk-mlsa": "traindev", "griffin-lim": "traindev",
                "praat-psola": "test", "codec2": "test"}
ENGINES = ["espeak-ng", "festival", "flite", "piper", "vocaltractlab", "freetts"]
# Synthesis family of every engine and voice (the `family` column; bona fide rows say `human`).
FESTIVAL_FAMILY = {"cmu_us_slt_arctic_hts": "HMM", "upc_ca_ona_hts": "HMM",  # the other festival voices are diphones
                   "msu_ru_nsh_clunits": "unit-selection"}
FLITE_FAMILY = {"kal": "diphone", "kal16": "diphone", "awb": "HMM", "rms": "HMM", "slt": "HMM"}  # awb/rms/slt: clustergen
# Copy-synthesis: every bona fide utterance is resynthesised by the vocoders of its split (ENGINE_SPLIT): train and
# dev utterances by one of world, sptk-mlsa, griffin-lim (chosen by hash); test utterances by praat-psola and by
# Codec 2 at one of its low rates.
COPY_SYNTHESIS_VOCODERS = ("world", "sptk-mlsa", "griffin-lim", "praat-psola")


def family_of(item):
    engine, voice = item["engine"], item["voice"]
    if item["label"] == "bonafide":
        return "human"
    if engine == "espeak-ng":
        return "formant"
    if engine == "flite":
        return FLITE_FAMILY[voice]
    if engine == "festival":
        return FESTIVAL_FAMILY.get(voice, "diphone")
    if engine == "piper":
        return "neural"
    if engine == "vocaltractlab":
        return "articulatory"
    if engine == "freetts":
        return "diphone"
    return vocoders.FAMILY[engine]


# Utterances per voice at scale 1.
# VocalTractLab simulates the vocal tract at about 5× slower than real time per core: 80 utterances cost ~10 minutes
# of a 2-core build.
# FreeTTS starts a JVM per utterance (~1 s): 80 utterances cost ~1.5 minutes.
PER_VOICE = {"espeak-ng": 60, "flite": 110, "festival": 110, "piper": 320, "vocaltractlab": 80, "freetts": 80}
# Voices that are a family's only one read more (so held-out-family folds are not tiny).
PER_VOICE_OVERRIDE = {"msu_ru_nsh_clunits": 320}

TRACKS = {
    # 16 kHz mono; every source is band-limited to 3.7 kHz (steep) because the human telephone
    # prompts stop at 4 kHz: full bandwidth would let "energy above 4 kHz" separate the labels.
    "wide": ["sinc", "-t", "150", "-3700"],
    # Telephone channel: 8 kHz, 300–3400 Hz, back to 16 kHz.
    "tel": ["rate", "-v", "8000", "sinc", "300-3400", "rate", "-v", "16000"],
}
TRACK_RATE = 16000
TARGET_RMS_DBFS = -26.0
NOISE_FLOOR_DBFS = -60.0
TRIM_BELOW_PEAK_DB = 40.0
TRIM_PAD_SECONDS = 0.05


def speaker_split(item):
    if item["speaker"] in SPEAKER_SPLIT:
        return SPEAKER_SPLIT[item["speaker"]]
    return FILLETS_SPLIT[item["language"]]


def select_bonafide(seed, scale):
    items = sources.bonafide_items()
    groups = defaultdict(list)
    for it in items:
        groups[(it["speaker"], it["language"])].append(it)
    for key in list(groups):
        # A few game voice files are empty or a click: keep lines with at least 0.3 s of audio.
        groups[key] = [it for it in groups[key] if audio_meta.duration(it["orig_path"]) >= 0.3]
    chosen = []
    for key in sorted(groups):
        group = sorted(groups[key], key=lambda it: it["id"])
        n = min(len(group), max(1, math.ceil(len(group) * scale)))
        order = rng_for(seed, "bonafide", *key).permutation(len(group))[:n]
        chosen += [group[i] for i in sorted(order)]
    for it in chosen:
        it["split"] = speaker_split(it)
    return chosen


def plan_spoofs(bonafide, seed, scale, out_dir, durations):
    """Spoof jobs: each voice reads transcripts of bona fide utterances in its language.

    Texts are chosen so the spoof durations follow the bona fide duration distribution of the
    whole set (each job draws a random bona fide utterance's duration and takes the unused text
    of its language whose human recording is closest to it); synthesis then matches each text's
    human duration (see synthesize_duration_matched). Duration therefore cannot separate labels.
    """
    by_language = defaultdict(dict)
    split_languages = defaultdict(set)
    for it in sorted(bonafide, key=lambda r: r["id"]):
        by_language[it["language"]].setdefault(it["text"], it)
        split_languages[it["split"]].add(it["language"])
    all_durations = np.array(sorted(durations[it["id"]] for it in bonafide))
    jobs = []
    for engine, voice, lang, gender in synth.voices():
        candidates = sorted(by_language[lang].values(), key=lambda r: (durations[r["id"]], r["id"]))
        cand_durations = np.array([durations[r["id"]] for r in candidates])
        used = np.zeros(len(candidates), dtype=bool)
        n = min(len(candidates), max(1, math.ceil(PER_VOICE_OVERRIDE.get(voice, PER_VOICE[engine]) * scale)))
        rng = rng_for(seed, "spoof", engine, voice)
        for _ in range(n):
            target = all_durations[rng.integers(len(all_durations))]
            i = int(np.searchsorted(cand_durations, target))
            lo, hi = i - 1, i
            while lo >= 0 and used[lo]:
                lo -= 1
            while hi < len(candidates) and used[hi]:
                hi += 1
            if hi >= len(candidates) or (lo >= 0 and target - cand_durations[lo] <= cand_durations[hi] - target):
                pick = lo
            else:
                pick = hi
            used[pick] = True
            source_item = candidates[pick]
            text = source_item["text"]
            uid = f"sp-{engine}-{voice.replace('+', '-')}-{stable_hash(seed, engine, voice, text) % 10**10:010d}"
            if ENGINE_SPLIT[engine] == "test":
                split = "test"
            else:
                options = [s for s in ("train", "dev") if lang in split_languages[s]]
                split = options[stable_hash(seed, uid) % len(options)] if options else "extra"
            jobs.append(dict(
                id=uid, engine=engine, voice=voice, language=lang, gender=gender, text=text, stretch=1.0,
                label="spoof", speaker=f"{engine}/{voice}", split=split,
                source=synth.VOICE_PACKAGES.get(voice, (synth.ENGINE_PACKAGES[engine],))[0],
                licence=synth.VOICE_PACKAGES.get(voice, (None, synth.ENGINE_LICENCES[engine]))[1],
                attribution=f"synthesised by {engine} voice {voice}",
                path=os.path.join(out_dir, "orig", "spoof", engine, voice.replace("+", "-"), uid + ".wav"),
                text_source=source_item["id"]))
            jobs[-1]["orig_path"] = jobs[-1]["path"]
    return jobs


def plan_copy_synthesis(bonafide, seed, out_dir):
    """Copy-synthesis jobs. Train and dev utterances: one vocoder of the train/dev engines (ENGINE_SPLIT), chosen by
    hash; test utterances: Praat PSOLA and Codec 2 (700C, 1300 or 450 bit/s, by hash), engines nobody else's recordings
    go through, so the fixed test split holds unseen engines as for text-to-speech. Speaker, text, language, split
    and timing stay the human's: only the vocoder differs between the classes."""
    traindev = [v for v in COPY_SYNTHESIS_VOCODERS if ENGINE_SPLIT[v] == "traindev"]
    jobs = []
    for it in sorted(bonafide, key=lambda r: r["id"]):
        h = stable_hash(seed, "copy-synthesis", it["id"])
        if it["split"] == "test":
            picks = [(v, None) for v in COPY_SYNTHESIS_VOCODERS if ENGINE_SPLIT[v] == "test"]
            picks.append(("codec2", vocoders.CODEC2_MODES[(h >> 20) % len(vocoders.CODEC2_MODES)]))
        else:
            picks = [(traindev[h % len(traindev)], None)]
        for engine, mode in picks:
            voice = mode or engine
            uid = f"cs-{engine}-{voice.lower()}-{it['id']}" if mode else f"cs-{engine}-{it['id']}"
            jobs.append(dict(
                id=uid, engine=engine, voice=voice, language=it["language"], gender=it["gender"], text=it["text"],
                label="spoof", speaker=it["speaker"], split=it["split"], source=vocoders.PACKAGE[engine],
                licence=f"{it['licence']} (recording); {vocoders.LICENCE[engine]} ({engine})",
                attribution=f"copy-synthesis of {it['id']} ({it['attribution']}) by {engine}"
                            + (f" {mode} bit/s" if mode else ""),
                path=os.path.join(out_dir, "orig", "spoof", engine, voice.lower(), uid + ".wav"),
                text_source=it["id"], copy_of=it["orig_path"], codec_mode=mode))
            jobs[-1]["orig_path"] = jobs[-1]["path"]
    return jobs


def copy_synthesize(job):
    """Reads the human recording at 16 kHz, runs the vocoder, writes the result (atomically)."""
    if os.path.exists(job["path"]):
        return True
    x = sox_read(job["copy_of"], TRACK_RATE)
    try:
        y = vocoders.vocode(job["engine"], x, job["codec_mode"])
    except Exception as error:  # a vocoder that cannot analyse a recording: the item is left out (and reported)
        print(f"speech: {job['engine']} could not resynthesise {job['copy_of']}: {error}", file=sys.stderr)
        return False
    peak = np.max(np.abs(y)) if len(y) else 0
    if peak > 0.99:
        y = y * (0.99 / peak)
    write_wav(job["path"], y, TRACK_RATE)
    return True


def synthesize_duration_matched(jobs, workers, quiet):
    """Two passes: synthesise at the engine's own pace (probe), then again with the length
    stretched so the spoken part lasts as long as the human recording of the same text. This
    keeps duration from separating the labels without processing the audio afterwards."""
    todo = [j for j in jobs if not os.path.exists(j["path"])]
    # VocalTractLab's durations are ours (the segment sequence): its stretch is computed, not probed.
    for j in todo:
        if j["engine"] == "vocaltractlab":
            j["stretch"] = float(np.clip(j["target_seconds"] / max(synth.vtl_natural_seconds(j), 0.05), 0.6, 1.8))
    probes = [dict(j, path=j["path"][:-4] + ".probe.wav", stretch=1.0) for j in todo if j["engine"] != "vocaltractlab"]
    synthesize(probes, workers, quiet, "probe")
    def plan(pair):
        job, probe = pair
        if not os.path.exists(probe["path"]):
            return None
        natural = active_seconds(probe["path"])
        job["stretch"] = float(np.clip(job["target_seconds"] / max(natural, 0.05), 0.6, 1.8))
        return job
    probed = [j for j in todo if j["engine"] != "vocaltractlab"]
    final = [j for j in parallel_map(plan, list(zip(probed, probes)), workers, "speech: duration match", quiet) if j]
    final += [j for j in todo if j["engine"] == "vocaltractlab"]
    synthesize(final, workers, quiet, "final")
    for p in probes:
        if os.path.exists(p["path"]):
            os.unlink(p["path"])


def synthesize(jobs, workers, quiet, phase=""):
    todo = [j for j in jobs if not os.path.exists(j["path"])]
    simple = [j for j in todo if j["engine"] in ("espeak-ng", "flite", "freetts")]
    runner = {"espeak-ng": synth.synth_espeak, "flite": synth.synth_flite, "freetts": synth.synth_freetts}
    parallel_map(lambda j: runner[j["engine"]](j), simple, workers, f"speech: espeak-ng/flite/freetts {phase}", quiet)
    by_voice = defaultdict(list)
    for j in todo:
        if j["engine"] == "festival":
            by_voice[j["voice"]].append(j)
    batches = []
    for voice, vjobs in sorted(by_voice.items()):
        for k in range(0, len(vjobs), 40):
            batches.append((voice, vjobs[k:k + 40]))
    parallel_map(lambda b: synth.synth_festival_batch(*b), batches, workers, f"speech: festival {phase} (batches of 40)", quiet)
    vtl_jobs = [j for j in todo if j["engine"] == "vocaltractlab"]
    if vtl_jobs:
        process_map(synth.synth_vocaltractlab_or_report, vtl_jobs, workers, f"speech: vocaltractlab {phase}", quiet)
    piper_jobs = [j for j in todo if j["engine"] == "piper"]
    progress = Progress(f"speech: piper {phase}", len(piper_jobs), quiet)
    for j in piper_jobs:
        synth.synth_piper(j)
        progress.step()


def active_region(x):
    """(start, end) samples of the part within TRIM_BELOW_PEAK_DB of the loudest 10 ms frame."""
    hop = TRACK_RATE // 100
    frames = len(x) // hop
    if frames == 0:
        raise ValueError("shorter than 10 ms")
    energy = (x[:frames * hop].reshape(frames, hop) ** 2).mean(axis=1) + 1e-20
    db = 10 * np.log10(energy)
    active = np.nonzero(db > db.max() - TRIM_BELOW_PEAK_DB)[0]
    return active[0] * hop, (active[-1] + 1) * hop, energy[active].mean()


def normalise(item, track, out_dir, seed):
    """Writes one normalised track of an utterance; returns its duration in seconds.

    The active part (within 40 dB of the loudest frame) is cut out, scaled to −26 dBFS RMS,
    faded over 2 ms, framed by exactly TRIM_PAD_SECONDS of silence on both sides, and a common
    −60 dBFS white noise floor is added: leading/trailing silence and level are then the same
    for every item whatever its source."""
    path = os.path.join(out_dir, track, item["label"], item["id"] + ".wav")
    if os.path.exists(path):
        import wave
        with wave.open(path, "rb") as w:
            return w.getnframes() / w.getframerate()
    x = sox_read(item["orig_path"], TRACK_RATE, TRACKS[track])
    start, end, active_energy = active_region(x)
    y = x[start:end] * (10 ** (TARGET_RMS_DBFS / 20) / math.sqrt(active_energy))
    fade = min(len(y) // 2, TRACK_RATE // 500)
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade)
        y[:fade] *= ramp
        y[-fade:] *= ramp[::-1]
    pad = np.zeros(int(TRIM_PAD_SECONDS * TRACK_RATE))
    y = np.concatenate([pad, y, pad])
    rng = rng_for(seed, "noise", item["id"], track)
    y = y + rng.standard_normal(len(y)) * 10 ** (NOISE_FLOOR_DBFS / 20)
    write_wav(path, y, TRACK_RATE)
    return len(y) / TRACK_RATE


def active_seconds(path):
    start, end, _ = active_region(sox_read(path, TRACK_RATE, TRACKS["wide"]))
    return (end - start) / TRACK_RATE


def build(out_root, seed, scale, jobs, quiet=False):
    out_dir = os.path.join(out_root, "speech")
    bonafide = select_bonafide(seed, scale)
    durations = {track: {} for track in TRACKS}
    for track in TRACKS:
        work = [(it, track) for it in bonafide]
        result = parallel_map(lambda w: normalise(w[0], w[1], out_dir, seed), work, jobs, f"speech: {track} track (bona fide)", quiet)
        durations[track].update({it["id"]: d for it, d in zip(bonafide, result)})
    spoofs = plan_spoofs(bonafide, seed, scale, out_dir, durations["wide"])
    for job in spoofs:
        job["target_seconds"] = durations["wide"][job["text_source"]] - 2 * TRIM_PAD_SECONDS
    synthesize_duration_matched(spoofs, jobs, quiet)
    failed = [j for j in spoofs if not os.path.exists(j["path"])]
    if failed:
        print(f"speech: {len(failed)} utterance(s) the synthesizer could not say were left out "
              f"(e.g. {failed[0]['engine']}/{failed[0]['voice']}: {failed[0]['text']!r})", file=sys.stderr)
    spoofs = [j for j in spoofs if os.path.exists(j["path"])]
    copies = plan_copy_synthesis(bonafide, seed, out_dir)
    process_map(copy_synthesize, copies, jobs, "speech: copy-synthesis (vocoders, codec2)", quiet)
    spoofs += [j for j in copies if os.path.exists(j["path"])]
    items = bonafide + spoofs
    for it in items:
        it["sample_rate_orig"] = audio_meta.sample_rate(it["orig_path"])
        it["duration_orig"] = audio_meta.duration(it["orig_path"])
    for track in TRACKS:
        work = [(it, track) for it in spoofs]
        result = parallel_map(lambda w: normalise(w[0], w[1], out_dir, seed), work, jobs, f"speech: {track} track (spoof)", quiet)
        durations[track].update({it["id"]: d for it, d in zip(spoofs, result)})
    # The augmented track: the wide track of every item through one random channel (room, noise, band, clipping,
    # real codec), drawn independently of the label.
    for it in items:
        it["track_seconds"] = durations["wide"][it["id"]]
    drawn = channels.build_track(items, out_dir, seed, jobs, quiet)
    durations["aug"] = durations["wide"]
    test_speakers = {it["speaker"] for it in bonafide if it["split"] == "test"}
    speakers_by_language = defaultdict(set)
    for it in bonafide:
        speakers_by_language[it["language"]].add(it["speaker"])
    rows = {}
    for track in ["orig", *TRACKS, "aug"]:
        rows[track] = []
        for it in sorted(items, key=lambda r: r["id"]):
            path = it["orig_path"] if track == "orig" else os.path.join(out_dir, track, it["label"], it["id"] + ".wav")
            row = dict(
                id=it["id"], path=path if track == "orig" and it["label"] == "bonafide" else os.path.relpath(path, out_dir),
                label=it["label"], source=it["source"], engine=it["engine"], voice=it["voice"],
                language=it["language"], speaker=it["speaker"], gender=it["gender"],
                channel={"orig": "original", "wide": "wide-16k-3.7k", "tel": "tel-300-3400", "aug": "augmented"}[track],
                sample_rate_orig=it["sample_rate_orig"],
                duration=f"{it['duration_orig'] if track == 'orig' else durations[track][it['id']]:.3f}",
                text=it["text"], split=it["split"], licence=it["licence"], attribution=it["attribution"],
                family=family_of(it))
            if track == "aug":
                row["channel_conditions"] = drawn[it["id"]]["label"]
                row["channel_codec"] = drawn[it["id"]]["codec"]
            for engine in ENGINES + list(vocoders.VOCODERS):
                row[f"loeo_{engine}"] = loeo_role(it, engine, test_speakers)
            for family in FAMILIES:
                row[f"lofo_{family.lower()}"] = lofo_role(it, family, test_speakers)
            for language in LANGUAGES:
                row[f"lolo_{language}"] = lolo_role(it, language, speakers_by_language)
            rows[track].append(row)
    write_manifests(out_dir, rows, set_name="speech")
    return rows


FAMILIES = ("formant", "diphone", "unit-selection", "HMM", "neural", "articulatory", "vocoder-copy-synthesis", "codec")


def loeo_role(item, held_out, test_speakers):
    """Leave-one-engine-out fold `held_out`: test = that engine's spoofs + test speakers;
    train = every other engine's spoofs + the other human speakers. Copy-syntheses of a test speaker by another
    engine are in neither side (empty): the test speakers' voices stay unseen in training."""
    if item["label"] == "spoof":
        if item["engine"] == held_out:
            return "test"
        return "" if item["engine"] in vocoders.VOCODERS and item["speaker"] in test_speakers else "train"
    return "test" if item["speaker"] in test_speakers else "train"


LANGUAGES = ("cs", "en", "es", "fr", "it", "nl", "ru")


def lolo_role(item, held_out, speakers_by_language):
    """Leave-one-language-out fold `held_out` (column lolo_<language>): test = every item in that language (both
    labels, every engine); train = the items in other languages, except those of a human talker who also speaks the
    held-out language (their recordings and copy-syntheses are in neither side), so the test voices are unseen too."""
    if item["language"] == held_out:
        return "test"
    return "" if item["speaker"] in speakers_by_language[held_out] else "train"


def lofo_role(item, held_out, test_speakers):
    """Leave-one-family-out fold `held_out` (column lofo_<family>): test = that family's spoofs + the test speakers'
    bona fide; train = every other family's spoofs + the other human speakers (a test speaker's copy-syntheses by
    other families: in neither side)."""
    if item["label"] == "spoof":
        if family_of(item) == held_out:
            return "test"
        return "" if item["engine"] in vocoders.VOCODERS and item["speaker"] in test_speakers else "train"
    return "test" if item["speaker"] in test_speakers else "train"
