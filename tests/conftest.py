"""Shared test configuration: Hypothesis profiles.

``dev`` (the default) keeps local runs quick; ``ci`` (selected when the
environment has ``CI=true``, or explicitly with ``HYPOTHESIS_PROFILE=ci``) is
derandomized, so CI failures reproduce, and runs more examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)

# `make fuzz`: the same fuzz and property tests, many more examples (HYPOTHESIS_PROFILE=fuzz).
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("CAREPATH_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _profile() -> str:
    chosen = os.environ.get("HYPOTHESIS_PROFILE")
    if chosen:
        return chosen
    return "ci" if os.environ.get("CI", "").lower() in {"1", "true", "yes"} else "dev"


settings.load_profile(_profile())
