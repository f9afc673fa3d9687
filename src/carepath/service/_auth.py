"""Who may call the service: the CDS Hooks bearer-token (JWT) check, and its hook.

CDS Hooks 3.0 ("Trusting CDS Clients"): every call carries ``Authorization: Bearer
<JWT>``, signed by the CDS client with an asymmetric key (never ``none``, never
HMAC; ES384 and RS384 recommended). The header names the key (``kid``) and says
``typ: JWT``; the payload has ``iss`` (on the service's allowlist), ``aud`` (the URL
of the endpoint being called), ``exp``, ``iat`` and ``jti`` (a nonce: a token is
accepted once). The client's public keys are a JWK Set agreed out of band.

:class:`TokenCheck` is the hook: pass any callable of that shape to
:func:`~carepath.service.create_app` to check tokens another way (mutual TLS in
front, an API gateway, ...). :class:`JwtCheck` is the documented default.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Mapping
from typing import Any, Final, Protocol, final

import jwt

from carepath._errors import InvalidArgument

from ._errors import TokenRejected

__all__ = ["ASYMMETRIC_ALGORITHMS", "JwtCheck", "TokenCheck"]

ASYMMETRIC_ALGORITHMS: Final = (
    "ES384",
    "RS384",
    "ES256",
    "ES512",
    "RS256",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
)
"""Signing algorithms :class:`JwtCheck` accepts by default (asymmetric only)."""


class TokenCheck(Protocol):
    """Checks the ``Authorization`` header of one call.

    Called with the header's value (``None`` when absent) and the URL of the
    endpoint called (the JWT's expected ``aud``); returns the token's claims, or
    raises :class:`~carepath.service.TokenRejected`.
    """

    def __call__(self, authorization: str | None, *, audience: str) -> Mapping[str, Any]: ...


@final
class JwtCheck:
    """The CDS Hooks JWT check (see the module docs).

    Args:
        jwks: The CDS client's JWK Set (``{"keys": [...]}``), agreed out of band.
        issuers: The ``iss`` values trusted (an allowlist; required, never empty).
        algorithms: Accepted signing algorithms; asymmetric ones only.
        leeway: Seconds of clock skew allowed on ``exp`` and ``iat``.
        max_lifetime: The longest ``exp - iat`` accepted, in seconds (short-lived tokens).
    """

    __slots__ = ("_algorithms", "_issuers", "_keys", "_leeway", "_lifetime", "_lock", "_seen")

    def __init__(
        self,
        *,
        jwks: Mapping[str, Any],
        issuers: Collection[str],
        algorithms: Collection[str] = ASYMMETRIC_ALGORITHMS,
        leeway: float = 30.0,
        max_lifetime: float = 600.0,
    ) -> None:
        bad = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if bad:
            raise InvalidArgument(
                owner="JwtCheck",
                field="algorithms",
                problem=f"{bad[0]!r} is not allowed; CDS Hooks forbids 'none' and symmetric "
                "(HMAC) signatures",
            )
        if isinstance(issuers, str) or not issuers:
            raise InvalidArgument(
                owner="JwtCheck", field="issuers", problem="give at least one trusted issuer"
            )
        try:
            keyset = jwt.PyJWKSet.from_dict(dict(jwks))
        except (jwt.PyJWTError, KeyError, TypeError, ValueError) as exc:
            raise InvalidArgument(
                owner="JwtCheck", field="jwks", problem=f"cannot be read ({type(exc).__name__})"
            ) from None
        self._keys: dict[str, jwt.PyJWK] = {k.key_id: k for k in keyset.keys if k.key_id}
        if not self._keys:
            raise InvalidArgument(owner="JwtCheck", field="jwks", problem="no key has a 'kid'")
        self._issuers = frozenset(issuers)
        self._algorithms = tuple(algorithms)
        self._leeway = float(leeway)
        self._lifetime = float(max_lifetime)
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, authorization: str | None, *, audience: str) -> Mapping[str, Any]:
        if not authorization:
            raise TokenRejected(problem="no bearer token; send Authorization: Bearer <JWT>")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRejected(problem="expected Authorization: Bearer <JWT>")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected(problem="the bearer token is not a JWT") from None
        if header.get("typ") != "JWT":
            raise TokenRejected(problem="the JWT header's typ must be 'JWT'")
        alg = header.get("alg")
        if alg not in self._algorithms:
            raise TokenRejected(
                problem="the JWT's alg is not accepted; use one of " + ", ".join(self._algorithms)
            )
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenRejected(problem="the JWT's kid names no key of the trusted JWK Set")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[str(alg)],
                audience=audience,
                issuer=self._issuers,
                leeway=self._leeway,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.InvalidAudienceError:
            raise TokenRejected(
                problem=f"the JWT's aud is not this endpoint ({audience})"
            ) from None
        except jwt.InvalidIssuerError:
            raise TokenRejected(problem="the JWT's iss is not a trusted issuer") from None
        except jwt.ExpiredSignatureError:
            raise TokenRejected(problem="the JWT has expired") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejected(problem=f"the JWT lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            raise TokenRejected(problem=f"the JWT is not valid ({type(exc).__name__})") from None
        exp, iat, jti = claims["exp"], claims["iat"], claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise TokenRejected(problem="the JWT's jti must be a non-empty string")
        if exp - iat > self._lifetime:
            raise TokenRejected(
                problem=f"the JWT lives longer than {self._lifetime:.0f} s; use short-lived tokens"
            )
        now = time.time()
        with self._lock:
            if len(self._seen) > 10_000:
                for old in [j for j, e in self._seen.items() if e + self._leeway < now]:
                    del self._seen[old]
            if jti in self._seen:
                raise TokenRejected(problem="the JWT's jti was used before (a replay)")
            self._seen[jti] = float(exp)
        return claims
