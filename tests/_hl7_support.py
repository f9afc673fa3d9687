"""Shared by the HL7 v2 tests: one ADT message from keyword arguments."""

from __future__ import annotations

_STRUCTURE = {
    "A01": "ADT_A01",
    "A02": "ADT_A02",
    "A03": "ADT_A03",
    "A04": "ADT_A01",
    "A08": "ADT_A01",
    "A11": "ADT_A09",
    "A12": "ADT_A12",
    "A13": "ADT_A01",
}


def adt(
    trigger: str,
    control_id: str,
    at: str,
    *,
    patient_class: str = "I",
    location: str = "",
    service: str = "",
    disposition: str = "",
    patient: str = "MRN0042",
    pid3: str | None = None,
    visit: str = "V9001",
    version: str = "2.5",
) -> str:
    """One ADT message, segments ending in CR. ``pid3`` replaces the whole PID-3 (by
    default ``patient`` typed MR)."""
    pv1 = [""] * 37
    pv1[0], pv1[1], pv1[2], pv1[3] = "PV1", "1", patient_class, location
    pv1[10], pv1[19], pv1[36] = service, visit, disposition
    ids = pid3 if pid3 is not None else f"{patient}^^^CLINIC^MR"
    segments = [
        f"MSH|^~\\&|EHR|CLINIC|CAREPATH|CLINIC|{at}||ADT^{trigger}^"
        f"{_STRUCTURE[trigger]}|{control_id}|P|{version}",
        f"EVN|{trigger}|{at}",
        f"PID|1||{ids}||DOE^JANE||19800101|F|||1 MAIN ST^^SPRINGFIELD||(555)555-0100",
        "|".join(pv1).rstrip("|"),
    ]
    return "\r".join(segments) + "\r"
