"""Deliberate mistakes in values and records; see tests/test_typing.py."""

from __future__ import annotations

from carepath import Assessment, Override, Risk, place

Assessment(withdrawal="3")  # E: arg-type
Assessment(3)  # E: call-arg
Assessment(cravings=2)  # E: call-arg
Override(reason="why")  # E: call-arg
risk: Risk = 3  # E: assignment
place({"withdrawal": 3})  # E: arg-type
a = Assessment()
a.withdrawal = Risk.SEVERE  # E: misc
