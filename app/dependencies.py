"""Request dependencies, defined once: the database snapshot and the guard for detail endpoints."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from app.database import Database, Snapshot
from app.errors import InvalidParameter


async def get_snapshot(request: Request) -> AsyncIterator[Snapshot]:
    database: Database = request.app.state.database
    async with database.snapshot() as snapshot:
        # The HTTP cache keys responses and ETags by the dataset version the response was built from.
        request.scope.setdefault("state", {})["dataset_version"] = snapshot.info.version
        yield snapshot


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]


async def no_query_parameters(request: Request) -> None:
    """Detail endpoints take no parameters; a stray one is a mistake worth reporting, not ignoring."""
    for name, value in request.query_params.multi_items():
        raise InvalidParameter(name, "unknown parameter; this endpoint takes none", value)


NoParams = Depends(no_query_parameters)


async def single_values(request: Request) -> None:
    """A parameter given twice is refused: which one was meant cannot be known, and keeping either would
    silently drop the other."""
    seen = set()
    for name, value in request.query_params.multi_items():
        if name in seen:
            raise InvalidParameter(
                name, "is given more than once; for several values give one comma-separated list (a,b)", value
            )
        seen.add(name)


SingleValues = Depends(single_values)
