"""Command-line areas; each module defines ``register(group: click.Group) -> None``."""
