"""Imported first by :mod:`carepath.service`: without the extra, say how to install it."""

from carepath._extras import require

for _module in ("starlette", "httpx", "jwt", "jsonschema", "sqlalchemy"):
    require(_module, extra="service", needed_for="carepath.service")
