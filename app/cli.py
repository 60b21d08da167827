"""`newsfacts` / `python -m app`: load, check, serve, schema.

A thin layer over the library: it turns the loader's exceptions into messages that say what to fix,
and exit codes scripts can test (0 done, 1 bad seeds or a failed load, 2 bad usage or configuration).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Never

from app.revision import SCHEMA_REVISION
from app.settings import PROJECT_DIR, ConfigurationError, Settings, load_settings

if TYPE_CHECKING:
    from app.dataset import Progress

SCHEMA_PATH = PROJECT_DIR / "seeds" / "facts.schema.json"


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for option in ("database_url", "seeds_dir", "host", "port", "workers"):
        value = getattr(args, option, None)
        if value is not None:
            overrides[option] = value
    return load_settings(**overrides)


def _progress_bar() -> Progress | None:
    """One bar per stage of the load, on a terminal only (a log file gets the summary alone)."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bars: dict[str, tqdm[Never]] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for finished in bars.values():
                finished.close()
            big = total >= 10_000  # 1.25M rather than 1250000; small counts stay whole numbers
            bars[stage] = tqdm(total=total, desc=stage, unit="", unit_scale=big, file=sys.stderr, leave=False)
        bar = bars[stage]
        bar.update(done - bar.n)  # tqdm redraws at most ten times a second
        if done >= total:
            bar.close()

    return update


def _print_counts(counts: dict[str, int]) -> None:
    for kind in ("article", "person", "unit", "place", "event", "quote", "figure"):
        print(f"  {kind + 's' if kind != 'person' else 'people':<10} {counts.get(kind, 0):>9,}")


def cmd_load(args: argparse.Namespace) -> int:
    from app.loader import load, stopped_by_ctrl_c

    settings = _settings(args)
    with stopped_by_ctrl_c():
        summary = load(settings, progress=None if args.quiet else _progress_bar())
    rate = summary.facts / summary.seconds if summary.seconds else 0.0
    print(f"loaded {summary.target}")
    _print_counts(summary.counts)
    print(
        f"  {summary.facts:,} facts (records, links and evidence spans) in {summary.seconds:.2f} s ({rate:,.0f}/s)"
    )
    print(f"  dataset version {summary.version[:16]}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from app.loader import check

    dataset = check(_settings(args))
    print(f"seeds are valid: {dataset.fact_count:,} facts; nothing was written")
    _print_counts(dataset.counts)
    return 0


def needs_load(settings: Settings) -> str | None:
    """Why the database must be (re)built before serving, or None when it matches the seeds and this
    version's schema."""
    from app.dataset import seeds_version

    if settings.backend == "sqlite" and not settings.sqlite_path.exists():
        return f"no database at {settings.sqlite_path}"
    try:
        from sqlalchemy import create_engine, pool, text

        engine = create_engine(settings.database_url, poolclass=pool.NullPool)
        with engine.connect() as connection:
            query = text("SELECT key, value FROM dataset WHERE key IN ('version', 'revision')")
            stored: dict[str, str] = {key: value for key, value in connection.execute(query)}  # noqa: C416 (dict() refuses the rows)
        engine.dispose()
    except Exception as exc:
        return f"cannot read the dataset version ({type(exc).__name__})"
    if stored.get("revision") != SCHEMA_REVISION:
        return (
            f"it was built with schema revision {stored.get('revision') or 'unknown'}; "
            f"this version of newsfacts reads {SCHEMA_REVISION}"
        )
    if stored.get("version") != seeds_version(settings.seeds_dir):
        return "the seeds have changed since the last load"
    return None


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.logs import uvicorn_log_config
    from app.transport import PROTOCOL

    settings = _settings(args)
    if not args.no_load:
        reason = needs_load(settings)
        if reason:
            print(f"building the database first: {reason}", file=sys.stderr)
            cmd_load(argparse.Namespace(**vars(args), quiet=False))
    # Workers build their own app from the environment: pass the command-line choices on through it.
    for option in ("database_url", "seeds_dir", "host", "port", "workers"):
        os.environ[option.upper()] = str(getattr(settings, option))
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http=PROTOCOL,  # httptools, its responses written together at the end of each turn of the loop
        access_log=False,
        server_header=False,
        proxy_headers=True,
        limit_concurrency=settings.limit_concurrency,
        timeout_keep_alive=settings.keep_alive_timeout,
        timeout_graceful_shutdown=10,
        log_config=uvicorn_log_config(settings.log_level, settings.log_format),
        log_level=settings.log_level,
    )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from app.facts_file import FactsFile

    schema = FactsFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    target = Path(args.output)
    if args.check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{target} is out of date; run `python -m app schema`", file=sys.stderr)
            return 1
        print(f"{target} is up to date")
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="newsfacts", description=__doc__.split("\n")[0])
    commands = main.add_subparsers(dest="command", required=True, metavar="command")

    def data_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--seeds", dest="seeds_dir", help="seeds folder (default: SEEDS_DIR or ./seeds)")
        sub.add_argument(
            "--database-url", help="target database (default: DATABASE_URL or data/newsfacts.db)"
        )

    load = commands.add_parser("load", help="build the database from the seeds")
    data_options(load)
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    load.set_defaults(handler=cmd_load)

    check = commands.add_parser("check", help="validate the seeds, write nothing")
    check.add_argument("--seeds", dest="seeds_dir", help="seeds folder (default: SEEDS_DIR or ./seeds)")
    check.set_defaults(handler=cmd_check)

    serve = commands.add_parser("serve", help="serve the API (building the database first if needed)")
    data_options(serve)
    serve.add_argument("--host", help="interface to listen on (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: PORT or 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default: WORKERS or 1)")
    serve.add_argument("--no-load", action="store_true", help="never build the database; serve what is there")
    serve.set_defaults(handler=cmd_serve)

    schema = commands.add_parser("schema", help="write the facts file's JSON Schema")
    schema.add_argument("--output", default=str(SCHEMA_PATH), help="where to write it")
    schema.add_argument("--check", action="store_true", help="only check that it is up to date")
    schema.set_defaults(handler=cmd_schema)
    return main


def _load_failure(exc: Exception) -> str | None:
    """What to print for a seed error or a failed load, which the command line reports without a
    traceback. Their modules are looked up, not imported: a command that never imported them cannot have
    raised them, and `serve` (which imports neither unless it loads first) starts a quarter of a second
    sooner without the loader's imports (SQLAlchemy, SQLModel, the seed files' models)."""
    seed_files, loader = sys.modules.get("app.seed_files"), sys.modules.get("app.loader")
    if seed_files is not None and isinstance(exc, seed_files.SeedErrors):
        return str(exc)
    if loader is not None and isinstance(exc, loader.LoadError):
        return f"load failed: {exc}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    except Exception as exc:
        message = _load_failure(exc)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing was changed", file=sys.stderr)
        return 130
