"""``carepath serve`` (the CDS Hooks service) and ``carepath fhir questionnaire``."""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import click

from carepath._commands import PATHWAY_HELP, guards_option, load_pathway
from carepath._definition import GuardFactory
from carepath._errors import CarepathError

__all__ = ["register"]


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option(
    "--store",
    "store_url",
    required=True,
    metavar="URL",
    help="The episode store: sqlite:///file.db or postgresql+psycopg://user@host:port/db.",
)
@click.option(
    "--pathway", "pathway_file", type=click.Path(exists=True, dir_okay=False), help=PATHWAY_HELP
)
@guards_option()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--jwks",
    "jwks_file",
    type=click.Path(exists=True, dir_okay=False),
    help="The CDS client's JWK Set (JSON), agreed out of band; its keys check the bearer JWTs.",
)
@click.option(
    "--issuer",
    "issuers",
    multiple=True,
    metavar="ISS",
    help="A trusted JWT issuer (iss); repeat for several.",
)
@click.option(
    "--insecure-dev",
    is_flag=True,
    help="Accept calls without a bearer token. Local development only; loopback hosts only.",
)
@click.option(
    "--max-body",
    default=1_048_576,
    show_default=True,
    type=click.IntRange(1024),
    help="The largest request body accepted, in bytes.",
)
def serve_command(
    store_url: str,
    pathway_file: str | None,
    guards: Mapping[str, GuardFactory] | None,
    host: str,
    port: int,
    jwks_file: str | None,
    issuers: tuple[str, ...],
    insecure_dev: bool,
    max_body: int,
) -> None:
    """Run the CDS Hooks service (and the placement page) under uvicorn (extra 'service').

    Endpoints: GET /cds-services, POST /cds-services/{id}, POST
    /cds-services/{id}/feedback, GET /placement. Every call must carry a CDS Hooks
    bearer JWT signed by a key in --jwks from an --issuer, unless --insecure-dev.
    """
    from carepath._extras import require  # noqa: PLC0415

    for module in ("uvicorn", "starlette", "httpx", "jwt", "jsonschema"):
        try:
            require(module, extra="service", needed_for="carepath serve")
        except ImportError as exc:
            raise click.ClickException(str(exc)) from None
    import uvicorn  # noqa: PLC0415  # the extra loads only when used

    from carepath.service import JwtCheck, TokenCheck, create_app  # noqa: PLC0415
    from carepath.store import EpisodeStore  # noqa: PLC0415

    check: TokenCheck | None = None
    if insecure_dev:
        if jwks_file or issuers:
            raise click.UsageError("--insecure-dev turns the token check off; drop --jwks/--issuer")
        if not _loopback(host):
            raise click.UsageError("--insecure-dev only binds a loopback address (127.0.0.1)")
    else:
        if not jwks_file or not issuers:
            raise click.UsageError(
                "give --jwks FILE and at least one --issuer to check the CDS client's tokens "
                "(or --insecure-dev for local development)"
            )
        try:
            jwks = json.loads(Path(jwks_file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise click.BadParameter(
                f"cannot read a JWK Set ({type(exc).__name__})", param_hint="--jwks"
            ) from None
        try:
            check = JwtCheck(jwks=jwks, issuers=issuers)
        except CarepathError as exc:
            raise click.BadParameter(str(exc), param_hint="--jwks") from None
    pathway = load_pathway(pathway_file, guards)
    try:
        store = EpisodeStore.open(store_url)
        app = create_app(
            store, pathway, token_check=check, insecure_dev=insecure_dev, max_body=max_body
        )
    except CarepathError as exc:
        raise click.ClickException(str(exc)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if insecure_dev:
        click.echo("WARNING: --insecure-dev: calls are not authenticated", err=True)
    try:
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")
    finally:
        store.close()


@click.command("questionnaire")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write to this file instead of standard output.",
)
def questionnaire_command(output: str | None) -> None:
    """Write the six-dimension assessment as an SDC Questionnaire (FHIR JSON)."""
    from carepath.interop import questionnaire  # noqa: PLC0415  # keeps the CLI start light

    text = json.dumps(questionnaire(), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {type(exc).__name__}") from None


def register(group: click.Group) -> None:
    """Add ``serve`` to the ``carepath`` group and ``questionnaire`` to its ``fhir`` group."""
    group.add_command(serve_command)
    fhir = group.commands.get("fhir")
    if not isinstance(fhir, click.Group):  # pragma: no cover - the interop area registers it
        fhir = click.Group("fhir", help="FHIR resources.")
        group.add_command(fhir)
    fhir.add_command(questionnaire_command)
