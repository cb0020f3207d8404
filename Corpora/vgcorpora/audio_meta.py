"""Header-only facts about source files (no decoding): sample rate and channels."""
import struct
import wave


def sample_rate(path) -> int:
    if path.endswith(".wav"):
        with wave.open(path, "rb") as w:
            return w.getframerate()
    if path.endswith(".ogg"):
        with open(path, "rb") as f:
            head = f.read(128)
        i = head.find(b"\x01vorbis")
        if i >= 0:
            return struct.unpack("<I", head[i + 12:i + 16])[0]
        i = head.find(b"OpusHead")
        if i >= 0:
            return 48000
    raise ValueError(f"{path}: cannot read the sample rate from the header")


def duration(path) -> float:
    """Duration in seconds from the header (WAV) or the last Ogg page's granule position."""
    if path.endswith(".wav"):
        with wave.open(path, "rb") as w:
            return w.getnframes() / w.getframerate()
    if path.endswith(".ogg"):
        rate = sample_rate(path)
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 65536))
            tail = f.read()
        i = tail.rfind(b"OggS")
        if i < 0 or i + 14 > len(tail):
            raise ValueError(f"{path}: no final Ogg page")
        granule = struct.unpack("<q", tail[i + 6:i + 14])[0]
        return granule / rate
    raise ValueError(f"{path}: unsupported for header duration")
