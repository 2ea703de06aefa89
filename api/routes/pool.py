"""The expert pool (Reg 35): set up at city level and shared by the committees of the city. Experts, the
institutions they work at (Reg 37 excludes them from cases against those), medical groups, the pool file."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import Response
from starlette.convertors import StringConvertor, register_url_convertor

from api.access import allow
from api.deps import ActorDep, Count, Cursor, DatabaseDep, Offset, ReleasingRoute, SessionDep
from api.errors import ERROR_RESPONSES, ErrorBody
from api.services import pool
from models.schemas_pool import (
    ExpertCreate,
    ExpertPublic,
    ExpertsPublic,
    ExpertUpdate,
    InstitutionCreate,
    InstitutionGroupCreate,
    InstitutionGroupPublic,
    InstitutionPublic,
    PoolImportReport,
    SpecialtyCode,
    SpecialtyPublic,
)

router = APIRouter(route_class=ReleasingRoute, prefix="/pool", tags=["pool"], responses=ERROR_RESPONSES)


class _ExpertIdConvertor(StringConvertor):
    """An expert's id in a path: any segment but `import` and `export`, so that /pool/experts/import and
    /pool/experts/export are their own resources (a 405 there names only their own methods)."""

    regex = r"(?!(?:import|export)(?![^/]))[^/]+"


register_url_convertor("expert_id", _ExpertIdConvertor())

ExpertId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                               examples=["SH-E0001"])]
InstitutionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                    examples=["sh-mq-main"])]
City = Annotated[str | None, Query(max_length=100, examples=["上海市"])]

EXPERT_EXAMPLE = {
    "id": "SH-E0901",
    "city": "上海市",
    "name": "周文华",
    "title": "主任医师",
    "specialties": ["obstetrics", "gynecology"],
    "region": "徐汇区",
    "max_concurrent": 3,
    "phone": "13916000901",
    "affiliations": [{"institution_id": "sh-fy", "started_on": "2012-07-01"}],
    "relatives": [{"name": "周敏", "relation": "配偶"}],
}
CSV_EXAMPLE = (
    "id,city,name,title,specialties,region,active,max_concurrent,phone,email,id_number,affiliations,"
    "relatives\n"
    "SH-E0902,上海市,吴海燕,副主任医师,产科;妇科,徐汇区,true,3,13916000902,,,sh-fy:2010-09-01:,\n"
    "SH-E0903,上海市,郑律师,律师,法学,黄浦区,true,2,,,,,\n"
)
CSV_BODY = {"requestBody": {"required": True,
                            "content": {"text/csv": {"schema": {"type": "string"}, "example": CSV_EXAMPLE}}}}
TAKEN: dict[int | str, dict[str, Any]] = {409: {"model": ErrorBody, "description": "The id is taken (`conflict`)"}}
CSV_ANSWER: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "the pool file"}}


@router.get("/specialties", dependencies=[allow("pool.vocabulary")],
            summary="The specialties of the pool: clinical departments, law, forensic "
            "medicine, pharmacy, nursing, psychology")
def specialties(actor: ActorDep) -> list[SpecialtyPublic]:
    return pool.specialties()


# ---------------------------------------------------------------- experts --------------------------------
@router.post("/experts", dependencies=[allow("pool.manage")],
             status_code=201, summary="Add an expert to the pool", responses=TAKEN)
def create_expert(
    body: Annotated[ExpertCreate, Body(openapi_examples={"产科专家": {"value": EXPERT_EXAMPLE}})],
    session: SessionDep,
    actor: ActorDep,
) -> ExpertPublic:
    return pool.create_expert(session=session, body=body)


@router.get("/experts", dependencies=[allow("pool.read")],
            summary="List and search the pool (identity and phone numbers masked)")
def search_experts(
    session: SessionDep,
    actor: ActorDep,
    q: Annotated[
        str | None, Query(max_length=100, description="text in the name, title or an institution's name")
    ] = None,
    specialty: SpecialtyCode | None = None,
    city: City = None,
    region: Annotated[str | None, Query(max_length=100, examples=["黄浦区"])] = None,
    active: bool | None = None,
    institution_id: Annotated[str | None, Query(max_length=64, description="works or worked there")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    cursor: Cursor = None,
    count: Count = None,
    offset: Offset = 0,
) -> ExpertsPublic:
    return pool.search(session=session, q=q, specialty=specialty, city=city, region=region, active=active,
                       institution_id=institution_id, limit=limit, cursor=cursor, offset=offset,
                       count=count == "estimate")


@router.post("/experts/import", dependencies=[allow("pool.manage")], openapi_extra=CSV_BODY,
             summary="Import a pool file (CSV, upsert by id): all or nothing unless skip_invalid")
async def import_experts(
    request: Request,
    db: DatabaseDep,
    actor: ActorDep,
    skip_invalid: Annotated[bool, Query(description="import the good rows and report the bad ones")] = False,
) -> PoolImportReport:
    raw = await request.body()
    return await db.run(lambda session: pool.import_csv(session=session, raw=raw, skip_invalid=skip_invalid))


@router.get("/experts/export", dependencies=[allow("pool.manage")],
            summary="The pool file (CSV), which imports back unchanged",
            response_class=Response, responses=CSV_ANSWER)
def export_experts(session: SessionDep, actor: ActorDep, city: City = None) -> Response:
    return Response(pool.export_csv(session=session, city=city), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="expert-pool.csv"'})


@router.get("/experts/{expert_id:expert_id}", dependencies=[allow("pool.read")],
            summary="An expert, with their affiliations")
def get_expert(expert_id: ExpertId, session: SessionDep, actor: ActorDep) -> ExpertPublic:
    return pool.get_expert(session=session, expert_id=expert_id, masked=actor.role not in ("admin", "dev"))


@router.patch("/experts/{expert_id:expert_id}", dependencies=[allow("pool.manage")],
              summary="Change an expert (only the fields given)")
def update_expert(
    expert_id: ExpertId, body: ExpertUpdate, session: SessionDep, actor: ActorDep
) -> ExpertPublic:
    return pool.update_expert(session=session, expert_id=expert_id, body=body)


@router.post("/experts/{expert_id:expert_id}/deactivate", dependencies=[allow("pool.manage")],
             summary="Deactivate an expert: never drawn again until reactivated")
def deactivate(expert_id: ExpertId, session: SessionDep, actor: ActorDep) -> ExpertPublic:
    return pool.set_active(session=session, expert_id=expert_id, active=False)


@router.post("/experts/{expert_id:expert_id}/activate", dependencies=[allow("pool.manage")],
             summary="Reactivate an expert")
def activate(expert_id: ExpertId, session: SessionDep, actor: ActorDep) -> ExpertPublic:
    return pool.set_active(session=session, expert_id=expert_id, active=True)


# ---------------------------------------------------------------- institutions and groups ----------------
@router.get("/groups", dependencies=[allow("pool.registry")],
            summary="Medical groups (医疗集团) with their sites")
def list_groups(session: SessionDep, actor: ActorDep, city: City = None) -> list[InstitutionGroupPublic]:
    return pool.list_groups(session=session, city=city)


@router.post("/groups", dependencies=[allow("pool.manage")],
             status_code=201, summary="Add a medical group", responses=TAKEN)
def create_group(
    body: InstitutionGroupCreate, session: SessionDep, actor: ActorDep
) -> InstitutionGroupPublic:
    return pool.create_group(session=session, body=body)


@router.get("/institutions", dependencies=[allow("pool.registry")],
            summary="Medical institutions, each with its group and the group's other sites")
def list_institutions(
    session: SessionDep,
    actor: ActorDep,
    city: City = None,
    group_id: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=100, description="text in the name")] = None,
) -> list[InstitutionPublic]:
    return pool.list_institutions(session=session, city=city, group_id=group_id, q=q)


@router.post("/institutions", dependencies=[allow("pool.manage")],
             status_code=201, summary="Add a medical institution (or a site of a group)",
             responses=TAKEN)
def create_institution(body: InstitutionCreate, session: SessionDep, actor: ActorDep) -> InstitutionPublic:
    return pool.create_institution(session=session, body=body)


@router.get("/institutions/{institution_id}", dependencies=[allow("pool.registry")],
            summary="An institution, its group and the group's other sites")
def get_institution(institution_id: InstitutionId, session: SessionDep, actor: ActorDep) -> InstitutionPublic:
    return pool.get_institution(session=session, institution_id=institution_id)
