"""The phenomena issue 3 lists for real poster photos, as tags of ``Sample.phenomena``.

Each entry: a label and the tags one photo must carry together to show it.
``missing(samples)`` says which the set does not cover; bench/hardset.py and
tests/test_hardset.py group their numbers by these labels.
"""

from __future__ import annotations

from collections.abc import Iterable

ISSUE_PHENOMENA: list[tuple[str, tuple[str, ...]]] = [
    ("poster < 35 % of frame", ("small",)),
    ("poster > 75 % of frame", ("large",)),
    ("perspective > 15 deg", ("steep",)),
    ("textured wall, uneven light", ("wall", "uneven_light")),
    ("light grey paper", ("grey_paper",)),
    ("dark header band", ("header_band",)),
    ("dark left half", ("dark_left_half",)),
    ("curling edges", ("curl",)),
    ("blue tape on corners", ("tape", "tape_blue")),
    ("tape across edges", ("tape_edges",)),
    ("number card above", ("number_card_above",)),
    ("tape strips on wall", ("wall_tape",)),
    ("hand pointing", ("hand",)),
    ("head over a corner", ("head_corner",)),
    ("head over bottom edge", ("head_bottom_edge",)),
    ("hidden corner", ("occluded_corner",)),
    ("sleeve down a side", ("sleeve",)),
    ("1-line title", ("title_1_line",)),
    ("2-line title", ("title_2_lines",)),
    ("3-line title", ("title_3_lines",)),
    ("title beside logo/QR", ("title_beside_logo",)),
    ("QR code", ("qr",)),
    ("logos", ("logos",)),
    ("authors + superscripts", ("author_superscripts",)),
    ("tagline above title", ("tagline",)),
    ("question, title in footer", ("question_headline",)),
    ("mixed case title", ("mixed_case",)),
    ("lowercase brand", ("lowercase_brand",)),
    ("hyphen in title", ("hyphen",)),
    ("colon in title", ("colon",)),
    ("question mark in title", ("question_mark",)),
    ("HEIC file", ("heic",)),
]


def shows(tags: Iterable[str], need: tuple[str, ...]) -> bool:
    return set(need) <= set(tags)


def missing(phenomena_per_photo: Iterable[Iterable[str]]) -> list[str]:
    """Labels of ISSUE_PHENOMENA that no photo shows."""
    photos = [set(p) for p in phenomena_per_photo]
    return [label for label, need in ISSUE_PHENOMENA if not any(shows(p, need) for p in photos)]
