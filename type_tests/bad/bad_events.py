"""Deliberate mistakes mypy must catch; see tests/test_typing.py."""

from __future__ import annotations

from datetime import UTC, datetime

from carepath import Assessment, standard_pathway

t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
ep = standard_pathway().start("patient-1", at=t0)

ep.step_donw("iop", at=t0)  # E: attr-defined
ep.admit(3, at=t0)  # E: arg-type
ep.admit("detox", at="2026-01-01")  # E: arg-type
ep.admit("detox")  # E: call-arg
ep.complete()  # E: call-arg
ep.relapse(at=t0, assessment={"withdrawal": 3})  # E: arg-type
ep.step_down("iop", at=t0, override="dr said so")  # E: arg-type
ep.reassess(Assessment(), t0)  # E: call-arg
ep.drop_out(at=t0, reason=42)  # E: arg-type
ep.level.code  # E: union-attr
ep.check("admitt", "iop", at=t0)  # E: arg-type
ep.record("step-down", "iop", at=t0)  # E: arg-type
