"""TaskStatus matches LUTE's enum, parse_status reads every spelling, and the palette is legible."""

from __future__ import annotations

import itertools
from enum import Enum

import pytest

from lute_model.status import (
    ALL_STATUSES,
    ANSI,
    PALETTE,
    SYMBOL,
    TEXT_ON,
    UNKNOWN,
    TaskStatus,
    UnknownStatus,
    parse_status,
)


class LuteTaskStatus(Enum):
    """Possible Task statuses (copied from LUTE's lute/tasks/dataclasses.py)."""

    PENDING = 0
    """
    Task has yet to run. Is Queued, or waiting for prior tasks.
    """
    RUNNING = 1
    """
    Task is in the process of execution.
    """
    COMPLETED = 2
    """
    Task has completed without fatal errors.
    """
    FAILED = 3
    """
    Task encountered a fatal error.
    """
    STOPPED = 4
    """
    Task was, potentially temporarily, stopped/suspended.
    """
    CANCELLED = 5
    """
    Task was cancelled prior to completion or failure.
    """
    TIMEDOUT = 6
    """
    Task did not reach completion due to timeout.
    """


def test_task_status_has_lutes_names_and_values_in_lutes_order():
    assert [(m.name, m.value) for m in TaskStatus] == [(m.name, m.value) for m in LuteTaskStatus]
    assert [(m.name, m.value) for m in TaskStatus] == [
        ("PENDING", 0), ("RUNNING", 1), ("COMPLETED", 2), ("FAILED", 3),
        ("STOPPED", 4), ("CANCELLED", 5), ("TIMEDOUT", 6),
    ]


@pytest.mark.parametrize("raw", [
    "COMPLETED", "TaskStatus.COMPLETED", "completed", " Completed\n", 2, "2", b"COMPLETED",
    TaskStatus.COMPLETED, LuteTaskStatus.COMPLETED,
])
def test_every_spelling_of_completed_reads_as_completed(raw):
    assert parse_status(raw) is TaskStatus.COMPLETED


def test_bytes_status_is_decoded():
    assert parse_status(b"FAILED") is TaskStatus.FAILED


@pytest.mark.parametrize("member", list(LuteTaskStatus))
def test_every_lute_enum_member_maps_to_ours_by_name(member):
    assert parse_status(member) is TaskStatus[member.name]
    assert parse_status(member.name) is TaskStatus[member.name]
    assert parse_status(member.value) is TaskStatus[member.name]
    assert parse_status(f"TaskStatus.{member.name}") is TaskStatus[member.name]


@pytest.mark.parametrize(("raw", "kept"), [
    (None, ""),
    ("", ""),
    ("bogus", "bogus"),
    ("TaskStatus.BOGUS", "TaskStatus.BOGUS"),
    (99, "99"),
    ("99", "99"),
    (-1, "-1"),
    (True, "True"),
    (False, "False"),
    (2.0, "2.0"),
    (b"\xff\xfe", "\ufffd\ufffd"),
    (["COMPLETED"], "['COMPLETED']"),
])
def test_unreadable_status_becomes_unknown_and_keeps_the_raw_value(raw, kept):
    status = parse_status(raw)
    assert isinstance(status, UnknownStatus)
    assert status.name == "UNKNOWN"
    assert status.raw == kept
    assert status not in set(TaskStatus)


def test_true_is_not_read_as_running():
    # bool is an int in Python: True == 1 == RUNNING would be a silent lie.
    assert parse_status(True) is not TaskStatus.RUNNING
    assert parse_status(False) is not TaskStatus.PENDING


def test_unknown_status_keeps_at_most_80_characters_of_a_long_word():
    status = parse_status("x" * 10_000)
    assert isinstance(status, UnknownStatus)
    assert status.raw == "x" * 80


def test_unknown_marker_is_the_last_status_of_the_legend():
    assert (*TaskStatus, UNKNOWN) == ALL_STATUSES
    assert UNKNOWN.name == "UNKNOWN"


def test_palette_has_eight_distinct_colors_one_per_status_and_unknown():
    assert set(PALETTE) == set(ALL_STATUSES)
    assert len(PALETTE) == 8
    assert len({color.lower() for color in PALETTE.values()}) == 8
    assert set(TEXT_ON) == set(PALETTE) == set(SYMBOL) == set(ANSI)
    assert len(set(SYMBOL.values())) == 8


def test_every_unknown_status_takes_unknowns_color_and_symbol():
    odd = parse_status("EXPLODED")
    assert odd != UNKNOWN
    assert (PALETTE[odd], TEXT_ON[odd], SYMBOL[odd], ANSI[odd]) == (
        PALETTE[UNKNOWN], TEXT_ON[UNKNOWN], SYMBOL[UNKNOWN], ANSI[UNKNOWN])
    assert PALETTE.by_name()["FAILED"] == PALETTE[TaskStatus.FAILED]
    with pytest.raises(KeyError):
        PALETTE["FAILED"]  # keyed by status: a name is no key


# --- color-vision-deficiency simulation -------------------------------------------------------

#: Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear sRGB.
MACHADO = {
    "protanopia": ((0.152286, 1.052583, -0.204868),
                   (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968),
                     (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
}
IDENTITY = ((1, 0, 0), (0, 1, 0), (0, 0, 1))

#: CIE76 ΔE below which two fills start to look like one: ~2.3 is "just noticeable",
#: and a status cell in a dense grid needs a clear difference at a glance.
MIN_DELTA_E = 10.0


def _linear_rgb(hex_color: str) -> tuple[float, ...]:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return tuple(channel(int(hex_color[i:i + 2], 16) / 255) for i in (1, 3, 5))


def _lab(rgb: tuple[float, ...]) -> tuple[float, float, float]:
    r, g, b = (min(1.0, max(0.0, c)) for c in rgb)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))


def _simulate(matrix, hex_color: str) -> tuple[float, float, float]:
    rgb = _linear_rgb(hex_color)
    return _lab(tuple(sum(m * c for m, c in zip(row, rgb, strict=True)) for row in matrix))


def _closest_pair(matrix, names) -> tuple[float, str, str]:
    colors = PALETTE.by_name()
    labs = {name: _simulate(matrix, colors[name]) for name in names}
    return min(
        (sum((p - q) ** 2 for p, q in zip(labs[a], labs[b], strict=True)) ** 0.5, a, b)
        for a, b in itertools.combinations(names, 2)
    )


def test_simulation_leaves_gray_gray_and_separates_red_from_green_only_for_normal_vision():
    # Sanity of the simulation itself: neutral colors are unchanged, and pure red and
    # green, far apart for normal vision, come close for the red-green deficiencies.
    for matrix in MACHADO.values():
        gray = _simulate(matrix, "#808080")
        assert abs(gray[1]) < 1 and abs(gray[2]) < 1
    normal = _closest_pair(IDENTITY, ["FAILED", "COMPLETED"])[0]
    assert normal > 60
    red_green = {
        kind: _lab_distance(_simulate(m, "#FF0000"), _simulate(m, "#00A000"))
        for kind, m in MACHADO.items()
    }
    assert all(d < normal / 2 for d in red_green.values()), red_green


def _lab_distance(p, q) -> float:
    return sum((a - b) ** 2 for a, b in zip(p, q, strict=True)) ** 0.5


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
def test_task_statuses_stay_distinguishable_under_color_blindness(vision):
    matrix = IDENTITY if vision == "normal" else MACHADO[vision]
    distance, a, b = _closest_pair(matrix, [s.name for s in TaskStatus])
    assert distance > MIN_DELTA_E, f"{a} and {b} are only ΔE {distance:.1f} apart ({vision})"


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
def test_unknown_stays_distinguishable_from_every_status_under_color_blindness(vision):
    matrix = IDENTITY if vision == "normal" else MACHADO[vision]
    distance, a, b = _closest_pair(matrix, list(PALETTE.by_name()))
    assert distance > MIN_DELTA_E, f"{a} and {b} are only ΔE {distance:.1f} apart ({vision})"
