"""Real human speech sources (Debian packages) with transcripts, speakers and licences."""
import glob
import gzip
import os
import re
import subprocess

ASTERISK_ROOT = "/usr/share/asterisk/sounds"
FILLETS_ROOT = "/usr/share/games/fillets-ng"

# (speaker id, folder, language, transcript language, gender, licence, package, attribution)
ASTERISK_SETS = [
    ("allison-smith", "en_US_f_Allison", "en", "en", "F", "CC-BY-SA-3.0", "asterisk-core-sounds-en-wav",
     "Asterisk core sounds (en), voice Allison Smith, © Allison Smith, CC BY-SA 3.0"),
    ("allison-smith", "es_MX_f_Allison", "es", "es", "F", "CC-BY-SA-3.0", "asterisk-core-sounds-es-wav",
     "Asterisk core sounds (es), voice Allison Smith, © Allison Smith, CC BY-SA 3.0"),
    ("june-wallack", "fr_CA_f_June", "fr", "fr", "F", "CC-BY-SA-3.0", "asterisk-core-sounds-fr-wav",
     "Asterisk core sounds (fr), voice June Wallack, © June Wallack, CC BY-SA 3.0"),
    ("carlo-flora", "it_IT_m_Carlo", "it", "it", "M", "CC-BY-3.0", "asterisk-core-sounds-it-wav",
     "Asterisk core sounds (it), voice Carlo Flora, CC BY 3.0"),
    ("ivrvoice-ru", "ru_RU_f_IvrvoiceRU", "ru", "ru", "F", "CC-BY-3.0", "asterisk-core-sounds-ru-wav",
     "Asterisk core sounds (ru), IvrvoiceRU female voice, CC BY 3.0"),
    ("paola-dal-zot", "it_IT_f_Menardi", "it", "it", "F", "CC-BY-SA-3.0-IT", "asterisk-prompt-it-menardi-wav",
     "Asterisk Italian prompts by Menardi, voice Paola Dal Zot, CC BY-SA 3.0 IT (attribution must be visible)"),
]

FILLETS_LANGUAGES = {
    "cs": ("fillets-ng-data-cs", "Fish Fillets NG Czech voices (ALTAR interactive), GPL-2+"),
    "nl": ("fillets-ng-data-nl", "Fish Fillets NG Dutch voices, GPL-2+"),
}
# Main characters' genders (small fish: female, big fish: male); minor characters unknown.
FILLETS_GENDER = {"font_small": "F", "font_big": "M"}


def package_version(package):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], check=True,
                              capture_output=True, text=True).stdout.strip()
    except subprocess.CalledProcessError:
        return ""


def asterisk_transcripts(language):
    path = f"/usr/share/doc/asterisk-core-sounds-{language}/core-sounds-{language}.txt.gz"
    texts = {}
    with gzip.open(path, "rt", encoding="utf-8-sig", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(";") or ":" not in line:
                continue
            key, text = line.split(":", 1)
            text = re.sub(r"\s+", " ", re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", text)).strip()
            if key.strip() and text and re.search(r"\w", text):
                texts[key.strip()] = text
    return texts


def asterisk_items():
    """Bona fide asterisk prompts that have a transcript (silence folders skipped)."""
    items = []
    for speaker, folder, lang, tlang, gender, licence, package, attribution in ASTERISK_SETS:
        root = os.path.join(ASTERISK_ROOT, folder)
        if not os.path.isdir(root):
            raise FileNotFoundError(f"{root}: missing; install {package}")
        texts = asterisk_transcripts(tlang)
        version = package_version(package)
        for path in sorted(glob.glob(os.path.join(root, "**", "*.wav"), recursive=True)):
            key = os.path.relpath(path, root)[:-4]
            if key.startswith("silence/") or key not in texts:
                continue
            items.append(dict(
                id=f"bf-{speaker}-{lang}-{key.replace('/', '_')}", orig_path=path, label="bonafide",
                source=f"{package}={version}", engine="human", voice=speaker, language=lang, speaker=speaker,
                gender=gender, text=texts[key], licence=licence, attribution=attribution))
    return items


DIALOG_RE = re.compile(r'dialogId\("([^"]+)",\s*"([^"]*)",\s*"((?:[^"\\]|\\.)*)"\)\s*dialogStr\("((?:[^"\\]|\\.)*)"\)', re.S)


def fillets_items():
    """Bona fide Fish Fillets NG voice lines in Czech and Dutch with their dialog text."""
    items = []
    for lang, (package, attribution) in FILLETS_LANGUAGES.items():
        version = package_version(package)
        for script in sorted(glob.glob(os.path.join(FILLETS_ROOT, "script", "*", f"dialogs_{lang}.lua"))):
            level = os.path.basename(os.path.dirname(script))
            with open(script, encoding="utf-8", errors="replace") as f:
                source = f.read()
            for dialog_id, font, _english, text in DIALOG_RE.findall(source):
                audio = os.path.join(FILLETS_ROOT, "sound", level, lang, dialog_id + ".ogg")
                text = re.sub(r"\s+", " ", text.replace('\\"', '"')).strip()
                if not os.path.exists(audio) or not re.search(r"\w", text) or not font:
                    continue
                character = font.replace("font_", "")
                speaker = f"fillets-{lang}-{character}"
                items.append(dict(
                    id=f"bf-{speaker}-{level}-{dialog_id}", orig_path=audio, label="bonafide",
                    source=f"{package}={version}", engine="human", voice=speaker, language=lang, speaker=speaker,
                    gender=FILLETS_GENDER.get(font, "U"), text=text, licence="GPL-2+", attribution=attribution))
    # A dialog line can appear in several levels' scripts: keep the first.
    seen, unique = set(), []
    for it in items:
        if it["orig_path"] not in seen:
            seen.add(it["orig_path"])
            unique.append(it)
    return unique


def bonafide_items():
    return asterisk_items() + fillets_items()
