"""Text rules for OCR'd poster titles: cleaning, and telling titles from sentences and author lines.

Pure string functions, kept apart from the image side of ``ocr.py`` so they
can be read and tested on their own.
"""

from __future__ import annotations

import re

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"',
                         "«": '"', "»": '"', "—": "-", "–": "-", "ﬁ": "fi", "ﬂ": "fl", "|": " ",
                         "©": " ", "®": " ", "™": " "})
_SUFFIX = re.compile(r"(tion|tions|sion|ing|ings|ment|ments|ness|ity|ities|ance|ence|able|ible|ized?|ised?|"
                     r"ation|ations|ally|ly|ers?|ed|ism|ist|ical|ive|ous|ful|less|al)\W*$")


def clean_title(lines: list[str]) -> str:
    """Join OCR'd title lines into one clean string."""
    parts: list[str] = []
    for ln in lines:
        ln = " ".join(ln.translate(_QUOTES).split())
        if not ln:
            continue
        if parts and _is_break_hyphen(parts[-1], ln):
            parts[-1] = parts[-1][:-1] + ln
        elif parts and parts[-1].endswith("-") and not parts[-1].endswith(" -"):
            parts[-1] = parts[-1] + ln  # "CA-" + "LoRA": keep the real hyphen, drop the space
        else:
            parts.append(ln)
    text = " ".join(parts)
    # A stray mark OCR glued to the last word (a logo edge, a shadow): titles
    # do not end in an apostrophe, nor in a quote that never opened.
    text = re.sub(r"['`´_~\\]+$", "", text.rstrip())
    # Nor does a title start with a dash or a mark ("-TTACoT:": the edge of a dark band).
    text = re.sub(r"^[-–—_~|,;:\\]+", "", text.lstrip())
    if text.count('"') % 2:
        text = re.sub(r'"+$', "", text)
    text = re.sub(r"\s+([:;,?!.)])", r"\1", text)  # "Search :" -> "Search:"
    text = re.sub(r"([(])\s+", r"\1", text)
    return text.strip()


def _is_break_hyphen(prev: str, nxt: str) -> bool:
    """A word hyphenated by the layout ("Genera-" / "tion"), not a real compound."""
    m = re.search(r"(\w+)-$", prev)
    if not m or not m.group(1).isalpha() or not m.group(1)[-1].islower():
        return False
    first = nxt.split()[0]
    return first.isalpha() and first.islower() and len(first) <= 8 and bool(_SUFFIX.fullmatch(first) or
                                                                            _SUFFIX.search(first) and len(first) <= 5)


_SENTENCE_START = {"we", "our", "this", "these", "can", "do", "does", "did", "why", "how", "what", "when",
                   "is", "are", "should", "could", "will", "you", "your", "it"}
_PRONOUNS = {"we", "our", "us", "you", "your", "i", "my"}
# Function words a title case leaves lower-case ("Dream of Electric Sheep").
_MINOR = {"a", "an", "the", "and", "or", "but", "nor", "of", "for", "to", "in", "on", "at", "by", "with", "via",
          "from", "as", "vs", "into", "over", "per", "is", "are", "be"}
# Words a title case may leave lower-case besides _MINOR (APA's short function words, name particles).
_LOWER_OK = _MINOR | {"if", "so", "yet", "off", "up", "out", "than", "not", "et", "al", "de", "la", "van", "von", "der"}


def _title_cased(words: list[str]) -> bool:
    """Most content words capitalised ("Do LLMs Dream of Electric Sheep?"), as titles are set.

    Only words that start with a letter count: "2nd", "7B", "&" have no case, so they read the same in a
    sentence-case line ("Can 7B LMs reason?") and would make it look title-cased. Nor do the function
    words title case may leave lower-case.
    """
    content = [w for w in (t.strip(":?!,.;()\"'") for t in words) if w[:1].isalpha() and w.lower() not in _LOWER_OK]
    return bool(content) and sum(w[0].isupper() for w in content) >= 0.75 * len(content)


def _names_something(head: list[str]) -> bool:
    """Could the words before a colon be a name ("GaLore", "sim2real", "Stream of Search")?

    A sentence split by a colon OCR read into it (tape over "mo|dels") has a
    sentence-case fragment there instead.
    """
    return len(head) == 1 or (2 <= len(head) <= 6 and _title_cased(head))


def reads_as_sentence(text: str) -> bool:
    """A tagline or a headline question rather than a paper title.

    Taglines are statements in sentence case ("We can decode faster by ..."),
    often in the first person; headline questions are sentence-case questions.
    Paper titles are title-cased, may be questions themselves ("Do LLMs Dream
    of Electric Sheep?") and often follow "Name: what it does" -- those are
    titles, whatever their punctuation.
    """
    words = text.split()
    if len(words) < 3:
        return False
    lowered = [w.strip("\"'(").lower() for w in words]
    lower = sum(1 for wd in words if wd[0].islower())
    first_person = any(w.strip("?!.,:;") in _PRONOUNS for w in lowered) and lower >= 0.4 * len(words)
    if text.rstrip()[-1] in ".!":
        return True
    if text.rstrip()[-1] == "?":
        return first_person or not _title_cased(words)
    if ":" in text and not first_person and _names_something(text.split(":", 1)[0].split()):
        return False  # "Brand: what it does" is the classic title pattern
    if first_person and len(words) >= 4:
        return True
    if lowered[0] in _SENTENCE_START and len(words) >= 5 and lower >= 0.5 * len(words):
        return True
    # Sentence case over many words: a statement, not a title-cased title.
    return len(words) >= 6 and lower >= 0.6 * len(words)


# Words no title ends with: a title line that stops on one runs on below ("... A Study of" / "Fine-Tuning").
_RUNS_ON = {"a", "an", "the", "and", "or", "but", "nor", "of", "for", "to", "in", "on", "at", "by", "with", "via",
            "from", "into", "vs", "per"}


def runs_on(text: str) -> bool:
    """Does *text* stop mid-phrase, on a function word? A question may ("What Are Transformers Good For?")."""
    words = text.split()
    return bool(words) and not text.rstrip().endswith("?") and words[-1].rstrip(".,;:").lower() in _RUNS_ON


def reads_as_title(text: str) -> bool:
    """Enough words, title-like, not a sentence: what may replace a headline without an author line to back it."""
    words = text.split()
    return (len(words) >= 3 and sum(ch.isalpha() for ch in text) >= 12 and not reads_as_sentence(text)
            and not looks_like_authors(text))


_AFFIL = re.compile(r"@|\b(Universit\w*|Institute|College|Labs?|Research|School|Department|Dept|Inc|CSAIL|"
                    r"FAIR|EPFL|KAIST|ETH|MIT|CMU|UCLA|NYU|Google|Microsoft|Meta|DeepMind|OpenAI|NVIDIA|"
                    r"Stanford|Berkeley|Oxford|Cambridge|Tsinghua|Z[uü]rich)\b")
# A surname with an affiliation mark (or what OCR makes of one) before a comma.
_MARKED_NAME = re.compile(r"[a-z][0-9¹²³⁴⁵⁶⁷⁸⁹⁰*†‡§'’`´°®©ª\"”?!]+\s*(,|\band\b)")
_AFFIL_MARK = re.compile(r"^([¹²³⁴⁵⁶⁷⁸⁹*†]\s*|[0-9])[A-Z]")
_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "del", "la", "le", "du", "dos", "bin", "al"}


def looks_like_authors(text: str, *, strict: bool = False) -> bool:
    """Names separated by commas / "and" (with affiliation marks), or an affiliation line.

    *strict* needs affiliation marks or words, or a comma-separated list:
    "Synthetic and Hallucination" is two capitalised "names" but a title too.
    """
    text = text.strip()
    if not text:
        return False
    # An affiliation line starts with its mark ("¹Mila", OCR: "1Mila"); a digit, a
    # space or dot, then a word is a numbered section heading ("1 Introduction").
    if _AFFIL.search(text) or _MARKED_NAME.search(text) or _AFFIL_MARK.match(text):
        return True
    # "Name Name, Name Name and Name Name", affiliation marks stripped.
    plain = re.sub(r"[^A-Za-zÀ-ÿ\s,&.-]+", "", text)
    segs = [sg.strip() for sg in re.split(r",|\band\b|&", plain) if sg.strip()]
    if len(segs) < (3 if strict else 2) or (strict and plain.count(",") < 2):
        return False
    # (The last name may be cut short when only the start of the line was read.)
    return all((2 if i < len(segs) - 1 else 1) <= len(sg.split()) <= 4
               and all(wd[0].isupper() or wd in _PARTICLES for wd in sg.split()) for i, sg in enumerate(segs))


_JUNK = re.compile(r"[\[\]{}<>=_|~^*\\]")


def _ordinal(n: int) -> str:
    return "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def garbled_words(text: str) -> list[str]:
    """The words of an OCR'd title that look damaged rather than written.

    Tape, a finger or glare over part of a title leaves pieces Tesseract reads
    with fair confidence: "2epresentations", "Preferenc)ata", "[4", "=", or a
    word that lost its capital in a title-cased title ("icture"). A title
    holding one is worth a second look. Names that are written that way are
    not counted: camelCase brands (fastText), "n-gram", "word2vec", ordinals.
    """
    tokens = text.split()
    words = [t.strip(":?!,.;()\"'") for t in tokens]
    title_cased = _title_cased(tokens)
    unbalanced = text.count("(") != text.count(")")
    bad = []
    for i, (token, word) in enumerate(zip(tokens, words)):
        brand = (any(c.isupper() for c in word[1:]) or any(c.isdigit() or c == "." for c in word)
                 or re.match(r"[a-z]{1,2}-", word))
        number = re.fullmatch(r"(\d+)([a-z]{2,})", word.split("-")[0])
        if (
            (not any(c.isalnum() for c in token) and token not in ("-", "&", "+", "/"))
            or _JUNK.search(token)
            or (number and number.group(2) != _ordinal(int(number.group(1))))  # "10ry", "2st"
            or re.search(r"\w[()]\w", token) or (unbalanced and ")" in token and "(" not in token)
            or "!" in token.rstrip("!") or (token.endswith("!") and i < len(tokens) - 1)
            or (title_cased and word[:1].islower() and len(word) >= 2 and word.lower() not in _LOWER_OK
                and not brand and not token.endswith(":") and (i == 0 or not tokens[i - 1].endswith(":")))
        ):
            bad.append(token)
    return bad
