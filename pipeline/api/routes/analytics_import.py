"""Performance import over HTTPS: upload a Meta or Google CSV export, list your creatives.

The import runs as the caller (RLS): rows join the caller's creatives only, and a bad file is a
422 problem naming the line and (in ``field``) the column, with nothing imported.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status
from pydantic import AfterValidator, BaseModel
from starlette.concurrency import run_in_threadpool

from pipeline.analytics.importers import read_csv_report
from pipeline.analytics.store import ImportResult, import_report
from pipeline.api.deps import CurrentUser, ReposDep
from pipeline.api.errors import problem_responses
from pipeline.store.models import StoredCreative

__all__ = ["CreativeList", "router"]

router = APIRouter(tags=["analytics"], responses=problem_responses(401))

_CSV_BODY = {
    "required": True,
    "content": {
        media: {"schema": {"type": "string", "format": "binary"}}
        for media in ("text/csv", "text/tab-separated-values")
    },
}


class CreativeList(BaseModel):
    creatives: list[StoredCreative]


@router.post(
    "/v1/analytics/imports",
    status_code=status.HTTP_201_CREATED,
    summary="Import a Meta Ads Manager or Google Ads CSV export",
    description=(
        "The body is the exported file as is (UTF-8, UTF-8 with a byte-order mark, or UTF-16 "
        "tab-separated). Rows join your creatives by the creative id in the ad name or "
        "`utm_content`; rows that match none are listed in `unmatched`. Importing the same file "
        "again changes nothing (`unchanged`)."
    ),
    responses=problem_responses(413, 422),
    openapi_extra={"requestBody": _CSV_BODY},
)
async def import_csv(
    request: Request,
    user: CurrentUser,
    repos: ReposDep,
    source: Annotated[
        Literal["auto", "meta", "google"],
        Query(description="who exported the file (auto: told by its header)"),
    ] = "auto",
    name: Annotated[
        str, Query(min_length=1, max_length=200, description="the file's name, for errors")
    ] = "upload.csv",
    currency: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z]{3}$",
            description="the account currency, e.g. USD, in any case, if the file omits it",
        ),
        AfterValidator(str.upper),
    ] = None,
) -> ImportResult:
    data = await request.body()

    def run() -> ImportResult:
        report = read_csv_report(data, name=name, source=source, currency=currency)
        return import_report(analytics=repos.analytics, user_id=user, report=report)

    return await run_in_threadpool(run)


@router.get("/v1/creatives", summary="Your creatives: every rendered output with its attributes")
def get_creatives(user: CurrentUser, repos: ReposDep) -> CreativeList:
    return CreativeList(creatives=repos.analytics.creatives(user_id=user))
