"""The counter-based generator: scalar and vector paths agree bit for bit, and draws are keyed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

np = pytest.importorskip("numpy")

from carepath.sim import Stream, uniform, uniforms  # noqa: E402  # after the extras check
from carepath.sim._random import MAX_PATIENTS, MAX_STEPS, grid  # noqa: E402

seeds = st.integers(min_value=0, max_value=2**64 - 1)
patients = st.integers(min_value=0, max_value=MAX_PATIENTS - 1)
steps = st.integers(min_value=0, max_value=MAX_STEPS - 1)
streams = st.integers(min_value=0, max_value=255)


@given(seeds, patients, steps, streams)
def test_scalar_and_vector_paths_agree_bit_for_bit(
    seed: int, patient: int, step: int, stream: int
) -> None:
    """For any key, the Python-integer and the numpy path give the same float."""
    scalar = uniform(seed, patient, step, stream)
    vector = uniforms(seed, [patient], [step], [stream])
    assert vector.dtype == np.float64
    assert float(vector[0]) == scalar
    assert 0.0 <= scalar < 1.0


def test_scalar_and_vector_paths_agree_on_a_grid() -> None:
    p = np.arange(0, 300, 7)
    s = np.arange(0, 40)
    grid = uniforms(99, p[:, None, None], s[None, :, None], np.arange(32)[None, None, :])
    assert grid.shape == (len(p), len(s), 32)
    for i, patient in enumerate(p.tolist()):
        for j, step in enumerate(s.tolist()):
            for k in (0, 8, 9, 15, 31):
                assert grid[i, j, k] == uniform(99, patient, step, k)


def test_known_values_pin_the_key_layout() -> None:
    """Changing the key layout or the mixer would silently change every simulation."""
    assert uniform(0, 0, 0, 0) == 0.555399804841727
    assert uniform(0, 0, 0, 1) == 0.35600558714941144
    assert uniform(2026, 12345, 17, Stream.EVENT_KIND) == 0.2866111039184034


def _textbook(seed: int, patient: int, step: int, stream: int) -> float:
    """The key layout of :mod:`carepath.sim._random`'s docstring, written out again."""
    mask = 2**64 - 1

    def mix(z: int) -> int:
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    gamma = 0x9E3779B97F4A7C15
    k1, k2 = mix((seed + gamma) & mask), mix((seed + 2 * gamma) & mask)
    counter = patient << 28 | step << 8 | stream >> 1
    bits = mix(mix((k1 + counter * gamma) & mask) ^ k2)
    half = bits >> 32 if stream % 2 else bits % 2**32
    return half / 2**32


@given(seeds, patients, steps, streams)
def test_draws_follow_the_documented_layout(
    seed: int, patient: int, step: int, stream: int
) -> None:
    """Each hash gives two draws: stream 2k its low 32 bits, stream 2k + 1 its high ones."""
    assert uniform(seed, patient, step, stream) == _textbook(seed, patient, step, stream)


def test_the_grid_is_uniforms_over_every_stream() -> None:
    p = np.arange(0, 50, 3)
    s = np.arange(0, 12)
    fast = grid(7, p[:, None], s[None, :], 32)
    slow = uniforms(7, p[:, None, None], s[None, :, None], np.arange(32)[None, None, :])
    assert fast.shape == slow.shape == (len(p), len(s), 32)
    assert np.array_equal(fast, slow)
    with pytest.raises(ValueError, match="even"):
        grid(7, p, s, 31)


def test_groups_of_six_draws_start_on_a_pair() -> None:
    """The engines hash a six-dimension group as three words: it must start at an even stream."""
    for group in (Stream.PROFILE, Stream.IMPROVE, Stream.WORSEN, Stream.WORSEN_OUT):
        assert group % 2 == 0


def test_every_field_of_the_key_changes_the_number() -> None:
    base = uniform(5, 10, 20, 8)
    assert uniform(6, 10, 20, 8) != base
    assert uniform(5, 11, 20, 8) != base
    assert uniform(5, 10, 21, 8) != base
    assert uniform(5, 10, 20, 9) != base


def test_draws_look_uniform() -> None:
    u = uniforms(3, np.arange(20_000)[:, None], np.arange(5)[None, :], 8).ravel()
    assert abs(u.mean() - 0.5) < 0.01
    assert abs(u.var() - 1 / 12) < 0.005
    counts, _ = np.histogram(u, bins=10, range=(0.0, 1.0))
    assert counts.min() > 0.9 * len(u) / 10
    # Neighbouring patients are not correlated.
    by_step = u.reshape(20_000, 5)
    assert abs(np.corrcoef(by_step[:-1, 0], by_step[1:, 0])[0, 1]) < 0.03
    # The two halves of one hash (streams 8 and 9) are not correlated either.
    pair = uniforms(3, np.arange(20_000)[:, None], 0, np.array([8, 9])[None, :])
    assert abs(np.corrcoef(pair[:, 0], pair[:, 1])[0, 1]) < 0.03


@pytest.mark.parametrize(
    ("seed", "patient", "step", "stream"),
    [
        (-1, 0, 0, 0),
        (2**64, 0, 0, 0),
        (0, -1, 0, 0),
        (0, MAX_PATIENTS, 0, 0),
        (0, 0, MAX_STEPS, 0),
        (0, 0, 0, 256),
    ],
)
def test_keys_out_of_range_are_rejected(seed: int, patient: int, step: int, stream: int) -> None:
    with pytest.raises(ValueError, match="must be in"):
        uniform(seed, patient, step, stream)


def test_the_vector_path_rejects_a_bad_seed() -> None:
    with pytest.raises(ValueError, match="seed"):
        uniforms(-1, [0], [0], [0])
