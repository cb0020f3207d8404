"""VoiceGuard corpus builders: real human speech, real synthesizers, mixtures, music, attacks."""
