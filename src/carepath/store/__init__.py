"""The episode store: episodes as append-only event logs (extra ``store``; SQLAlchemy 2).

- :class:`EpisodeStore`: ``EpisodeStore.open("sqlite:///care.db")`` (embedded, the
  default) or ``EpisodeStore.open("postgresql+psycopg://...")`` (extra
  ``postgres``); create, load, append, apply, list, export and import episodes.
- :class:`StoredEpisode`: what the store knows about an episode without replaying it.
- :data:`SCHEMA_VERSION`: the version of the tables this carepath writes.

``import carepath`` never imports this package or SQLAlchemy.
"""

# ruff: noqa: E402  # the extra is checked before any module of this package imports it
from carepath._extras import require as _require

_require("sqlalchemy", extra="store", needed_for="carepath.store")

from ._schema import SCHEMA_VERSION as SCHEMA_VERSION
from ._store import EpisodeStore as EpisodeStore
from ._store import StoredEpisode as StoredEpisode

__all__ = ["SCHEMA_VERSION", "EpisodeStore", "StoredEpisode"]
