"""The service's errors: each becomes an HTTP status and a FHIR OperationOutcome."""

from __future__ import annotations

from typing import Any

from carepath._errors import CarepathError

__all__ = ["ServiceError", "TokenRejected", "operation_outcome"]


class ServiceError(CarepathError):
    """A request the service cannot answer: an HTTP status, an OperationOutcome code,
    the field concerned and what is wrong (never a value the sender wrote).

    Attributes:
        status: The HTTP status (400, 401, 404, 409, 412, 413, 415, ...).
        code: The OperationOutcome issue code (``"invalid"``, ``"security"``, ...).
        field: Where the problem is (``"context.patientId"``), or empty.
        problem: What is wrong and what is allowed.
    """

    def __init__(self, *, status: int, code: str, problem: str, field: str = "") -> None:
        self.status = status
        self.code = code
        self.field = field
        self.problem = problem
        where = f"{field}: " if field else ""
        super().__init__(f"HTTP {status}: {where}{problem}")


class TokenRejected(ServiceError):
    """The bearer token is missing or fails the CDS Hooks JWT checks (HTTP 401)."""

    def __init__(self, *, problem: str) -> None:
        super().__init__(status=401, code="security", field="Authorization", problem=problem)


def operation_outcome(exc: ServiceError) -> dict[str, Any]:
    """The error as a FHIR OperationOutcome (what CDS Hooks suggests for non-2xx answers)."""
    issue: dict[str, Any] = {"severity": "error", "code": exc.code, "diagnostics": exc.problem}
    if exc.field:
        issue["expression"] = [exc.field]
    return {"resourceType": "OperationOutcome", "issue": [issue]}
