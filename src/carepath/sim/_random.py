"""Counter-based random numbers: every draw is a pure function of its key.

A draw is keyed by ``(seed, patient, step, stream)``: the run's seed, the
patient's index in the cohort, the patient's own step counter (one step per
simulated cycle: a stretch of care ending in an event or a reassessment) and a
stream saying what the number is for (:class:`Stream`). There is no state to
carry, no global generator, nothing shared between patients: any engine, any
chunking of the cohort and any number of workers get the same numbers.

Key layout (all arithmetic modulo 2**64)::

    pair    = stream >> 1                               streams 2k and 2k+1 share a hash
    counter = patient << 28 | step << 8 | pair          patient < 2**36, step < 2**20,
                                                        stream < 2**8
    k1 = mix(seed + GAMMA), k2 = mix(seed + 2 * GAMMA)  (two keys from the seed)
    bits = mix(mix(k1 + counter * GAMMA) ^ k2)
    half = bits & (2**32 - 1) if stream is even else bits >> 32
    uniform = half * 2**-32                             32 random bits, in [0, 1)

``mix`` is the SplitMix64 finaliser (Steele, Lea and Flood 2014): a bijection
of 64-bit words with full avalanche, applied twice with two keys, so that
counters differing only in their high bits (the patient) still give unrelated
words. ``GAMMA`` is its golden-ratio increment. Each 64-bit word gives two draws,
one per half: a draw resolves probabilities to ``2**-32`` (about 2.3e-10, the
resolution of R's ``runif``; a probability in (0, 2**-32] acts as 2**-32, one
above 1 - 2**-32 as 1, in every engine alike). Hashing is most of the fast
engine's work: the six draws of a group (one per dimension) are three hashes, and
draws made together (the event's day and kind) share one. The scalar path
(:func:`uniform`, Python integers) and the vector paths (:func:`uniforms`, numpy
``uint64`` arrays) compute the same function bit for bit; the conversion to a
float is exact in both.
"""

from __future__ import annotations

import enum
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "DRAW_BITS",
    "MAX_PATIENTS",
    "MAX_STEPS",
    "STEP_BITS",
    "STREAM_BITS",
    "Stream",
    "counter",
    "grid",
    "keys",
    "uniform",
    "uniforms",
]

_MASK: Final = (1 << 64) - 1
_GAMMA: Final = 0x9E3779B97F4A7C15
_M1: Final = 0xBF58476D1CE4E5B9
_M2: Final = 0x94D049BB133111EB
_LOW: Final = (1 << 32) - 1
_SCALE: Final = 2.0**-32

PATIENT_BITS: Final = 36
STEP_BITS: Final = 20
STREAM_BITS: Final = 8
MAX_PATIENTS: Final = 1 << PATIENT_BITS
"""Patients are indexed 0 to ``MAX_PATIENTS - 1``."""
DRAW_BITS: Final = 32
"""Random bits in a draw: a uniform number is a whole number below ``2**32`` times ``2**-32``."""
MAX_STEPS: Final = 1 << STEP_BITS
"""Each patient has at most this many steps (every step advances time by at least a day)."""


class Stream(enum.IntEnum):
    """What a random number is for: the last field of its key.

    The numbers never change meaning: engines that agree on this table draw the
    same numbers for the same purpose. Streams ``+ d`` are per assessment
    dimension, ``d`` in 0-5 in the standard order (withdrawal ... environment);
    each such group starts at an even stream, so its six draws are three hashes.
    """

    COHORT_CLASS = 0
    """Which class of the synthetic cohort a patient comes from (step 0)."""
    PROFILE = 2
    """Jitter of each rating of the starting profile (step 0; streams 2-7)."""
    EVENT_TIME = 8
    """The day of the next unplanned event (relapse, drop out, transfer) in a cycle."""
    EVENT_KIND = 9
    """Which unplanned event it is."""
    IMPROVE = 10
    """Whether each rating improves by one at a reassessment (streams 10-15)."""
    WORSEN = 16
    """Whether each rating worsens by one at a relapse in care (streams 16-21)."""
    CONTINUE = 22
    """Whether a patient ready to leave a level steps down (else completes)."""
    READMIT = 23
    """Whether an ended episode is followed by a readmission."""
    READMIT_DELAY = 24
    """Days from an outcome to the readmission."""
    RELAPSE_OUT = 25
    """Whether the patient relapsed out of care before the readmission."""
    WORSEN_OUT = 26
    """Whether each rating worsens at that relapse (streams 26-31)."""


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _M1) & _MASK
    z = ((z ^ (z >> 27)) * _M2) & _MASK
    return z ^ (z >> 31)


def _check(seed: int, patient: int, step: int, stream: int) -> None:
    if not 0 <= seed <= _MASK:
        raise ValueError(f"seed must be in 0..2**64-1, got {seed}")
    if not 0 <= patient < MAX_PATIENTS:
        raise ValueError(f"patient must be in 0..2**{PATIENT_BITS}-1, got {patient}")
    if not 0 <= step < MAX_STEPS:
        raise ValueError(f"step must be in 0..2**{STEP_BITS}-1, got {step}")
    if not 0 <= stream < (1 << STREAM_BITS):
        raise ValueError(f"stream must be in 0..255, got {stream}")


def keys(seed: int) -> tuple[int, int]:
    """The two 64-bit keys derived from ``seed``."""
    return _mix((seed + _GAMMA) & _MASK), _mix((seed + 2 * _GAMMA) & _MASK)


def counter(patient: int, step: int, stream: int) -> int:
    """The 64-bit counter of one draw's hash (see the key layout above)."""
    return (patient << (STEP_BITS + STREAM_BITS)) | (step << STREAM_BITS) | (stream >> 1)


def uniform(seed: int, patient: int, step: int, stream: int) -> float:
    """One uniform number in [0, 1), computed with Python integers.

    >>> uniform(2026, 0, 0, Stream.EVENT_TIME) == float(uniforms(2026, [0], [0], [8])[0])
    True
    """
    _check(seed, patient, step, stream)
    k1, k2 = keys(seed)
    c = counter(patient, step, stream)
    bits = _mix(_mix((k1 + c * _GAMMA) & _MASK) ^ k2)
    half = bits >> 32 if stream & 1 else bits & _LOW
    return half * _SCALE


def _mix_array(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


def _keys_of(seed: int) -> tuple[np.uint64, np.uint64]:
    if not 0 <= int(seed) <= _MASK:
        raise ValueError(f"seed must be in 0..2**64-1, got {seed}")
    k1, k2 = keys(int(seed))
    return np.uint64(k1), np.uint64(k2)


def _hash(
    p: npt.NDArray[np.uint64],
    s: npt.NDArray[np.uint64],
    pair: npt.NDArray[np.uint64],
    k1: np.uint64,
    k2: np.uint64,
) -> npt.NDArray[np.uint64]:
    """The 64-bit words of (broadcast) patients, steps and stream pairs (see
    :func:`counter`)."""
    c = (p << np.uint64(STEP_BITS + STREAM_BITS)) | (s << np.uint64(STREAM_BITS)) | pair
    return _mix_array(_mix_array(c * np.uint64(_GAMMA) + k1) ^ k2)


def uniforms(
    seed: int,
    patient: npt.ArrayLike,
    step: npt.ArrayLike,
    stream: npt.ArrayLike,
) -> npt.NDArray[np.float64]:
    """Uniform numbers in [0, 1) for broadcast arrays of keys, computed with numpy.

    Gives exactly :func:`uniform` for every key (bit for bit).
    """
    k1, k2 = _keys_of(seed)
    # Arrays, never numpy scalars: array arithmetic wraps modulo 2**64 silently.
    p = np.atleast_1d(np.asarray(patient, dtype=np.uint64))
    s = np.atleast_1d(np.asarray(step, dtype=np.uint64))
    t = np.atleast_1d(np.asarray(stream, dtype=np.uint64))
    one = np.uint64(1)
    bits = _hash(p, s, t >> one, k1, k2)
    half = (bits >> ((t & one) << np.uint64(5))) & np.uint64(_LOW)
    out: npt.NDArray[np.float64] = half.astype(np.float64) * _SCALE
    return out


def grid(
    seed: int, patient: npt.ArrayLike, step: npt.ArrayLike, streams: int
) -> npt.NDArray[np.float64]:
    """``uniforms(seed, patient[..., None], step[..., None], range(streams))``: the
    numbers of streams ``0 .. streams - 1`` (an even count) for broadcast ``patient``
    and ``step``, hashing each pair of streams once."""
    if streams <= 0 or streams % 2:
        raise ValueError(f"streams must be a positive even number, got {streams}")
    k1, k2 = _keys_of(seed)
    p = np.asarray(patient, dtype=np.uint64)[..., None]
    s = np.asarray(step, dtype=np.uint64)[..., None]
    pairs = np.arange(streams // 2, dtype=np.uint64)
    bits = np.ascontiguousarray(_hash(p, s, pairs, k1, k2), dtype="<u8")
    # Each little-endian word, read as two 32-bit halves, is (low, high): streams 2k, 2k+1.
    halves = bits.view("<u4").reshape(*bits.shape[:-1], streams)
    out: npt.NDArray[np.float64] = halves.astype(np.float64) * _SCALE
    return out
