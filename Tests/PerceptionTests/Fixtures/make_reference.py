#!/usr/bin/env python3
"""Writes reference.json: what the packages' own implementations compute on committed fixture audio.

- Silero VAD 6.2.3: the package's pure reference `silero_vad.tinygrad_model.TinySileroVAD` loaded with the
  wheel's `silero_vad_16k.safetensors`, fed 512-sample windows with 64 samples of context and the state carried,
  exactly as its docstring's full-audio example. (The wheel's TorchScript model, `load_silero_vad()`, has the
  same architecture but other, newer weights, so it is not the reference for this file.)
- Resemblyzer 0.1.4: `VoiceEncoder('cpu')` with its shipped pretrained.pt; mel frames from
  `resemblyzer.audio.wav_to_mel_spectrogram`, `embed_utterance(wav, return_partials=True)` (no preprocessing,
  so the Swift side gets the very same samples).

Audio is read with soundfile (libsndfile, like VoiceGuard). Run in a throwaway venv:
  python3 -m venv /tmp/ref && /tmp/ref/bin/pip install silero-vad==6.2.3 resemblyzer==0.1.4 torch tinygrad \
      safetensors soundfile librosa webrtcvad-wheels
  /tmp/ref/bin/python Tests/PerceptionTests/Fixtures/make_reference.py
"""
import json
import os
import sys

import numpy as np
import soundfile as sf

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", "..", ".."))
vad_audio = ["Corpora/fixtures/mixtures/mix-test-0045.flac", "Corpora/fixtures/mixtures/mix-test-0175.flac"]
encoder_audio = "Corpora/fixtures/mixtures/mix-test-0175.enroll.flac"


def read(path):
    wav, rate = sf.read(os.path.join(root, path), dtype="float32")
    assert rate == 16000 and wav.ndim == 1, (path, rate, wav.shape)
    return wav


def silero_reference(wav):
    import silero_vad
    from tinygrad import Tensor
    from tinygrad.nn.state import safe_load, load_state_dict
    from silero_vad.tinygrad_model import TinySileroVAD

    model = TinySileroVAD()
    weights = os.path.join(os.path.dirname(silero_vad.__file__), "data", "silero_vad_16k.safetensors")
    load_state_dict(model, safe_load(weights))
    pad = (-len(wav)) % 512
    x = np.concatenate([np.zeros(64, np.float32), wav, np.zeros(pad, np.float32)])[None, :]
    state, out = None, []
    for i in range(64, x.shape[1], 512):
        p, state = model(Tensor(x[:, i - 64:i + 512]), state)
        state = state.realize()
        out.append(float(p.numpy()[0, 0]))
    return out


def resemblyzer_reference(wav):
    from resemblyzer import VoiceEncoder
    from resemblyzer.audio import wav_to_mel_spectrogram

    encoder = VoiceEncoder("cpu", verbose=False)
    mel = wav_to_mel_spectrogram(wav[:16000])
    embedding, partials, slices = encoder.embed_utterance(wav, return_partials=True)
    return {
        # Mel powers span many decades: keep 9 significant digits, not decimals.
        "mel_first_second": [[float(f"{v:.9g}") for v in row] for row in mel.astype(float)],
        "partial_starts": [int(s.start) // 160 for s in slices],
        "partials": partials.astype(float).round(8).tolist(),
        "embedding": embedding.astype(float).round(8).tolist(),
    }


def main():
    out = {"silero_vad": {}, "resemblyzer": {}}
    for path in vad_audio:
        out["silero_vad"][path] = {"tinygrad": [round(p, 8) for p in silero_reference(read(path))]}
    out["resemblyzer"][encoder_audio] = resemblyzer_reference(read(encoder_audio))
    text = json.dumps(out, separators=(",", ":"))
    with open(os.path.join(here, "reference.json.tmp"), "w") as f:
        f.write(text)
    os.replace(os.path.join(here, "reference.json.tmp"), os.path.join(here, "reference.json"))


if __name__ == "__main__":
    main()
