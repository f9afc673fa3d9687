"""A CDS Hooks service for level-of-care placement, and a placement page (extra ``service``).

- :func:`create_app`: the ASGI app (Starlette): discovery, ``patient-view``,
  ``order-select`` and ``order-sign`` services, the feedback endpoint, and the
  placement page; ``carepath serve`` runs it under uvicorn.
- :class:`JwtCheck`: the CDS Hooks bearer-token (JWT) check; :class:`TokenCheck`
  is the shape of any other check.
- :data:`SERVICES`, :data:`PREFETCH`: the services and their prefetch templates.
- :data:`DISCREPANCY_REASON_SYSTEM`: the code system of the cards' override reasons
  (:class:`carepath.DiscrepancyReason`).

The service is a thin layer: placement comes from :meth:`Pathway.place`, verdicts
on moves from :meth:`Episode.check`; the handlers only read, check and word.
``import carepath`` never imports this package.
"""

from . import _extra  # noqa: F401  # first: a missing extra says how to install it
from ._app import MAX_BODY as MAX_BODY
from ._app import SERVICES as SERVICES
from ._app import Service as Service
from ._app import create_app as create_app
from ._audit import feedback_event_id as feedback_event_id
from ._auth import ASYMMETRIC_ALGORITHMS as ASYMMETRIC_ALGORITHMS
from ._auth import JwtCheck as JwtCheck
from ._auth import TokenCheck as TokenCheck
from ._cards import DISCREPANCY_REASON_SYSTEM as DISCREPANCY_REASON_SYSTEM
from ._errors import ServiceError as ServiceError
from ._errors import TokenRejected as TokenRejected
from ._prefetch import PREFETCH as PREFETCH

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "DISCREPANCY_REASON_SYSTEM",
    "MAX_BODY",
    "PREFETCH",
    "SERVICES",
    "JwtCheck",
    "Service",
    "ServiceError",
    "TokenCheck",
    "TokenRejected",
    "create_app",
    "feedback_event_id",
]
