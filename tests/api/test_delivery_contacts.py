"""How notifications reach a person (docs/notifications.md): one's own contact and channels (GET/PUT /me/contact),
an administrator's change to an account's (PATCH /users/{id}/contact), with the mobile number masked where it is
shown to someone else (DOMAIN.md privacy), and bad contacts refused with a clear 422."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from api.main import create_app
from core.security import hash_password
from core.settings import Settings
from models import repo_users
from models.users import User

SECRET = "delivery-contacts-secret-of-at-least-32-chars"
PASSWORD = "a long password for contacts"


@pytest.fixture
async def locked(temporal_env, database_url, worker) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, task_queue=worker, dev_mode=False, secret_key=SECRET)
    app = create_app(settings, temporal=temporal_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


def account(sessions, role: str, **scope: str) -> User:
    with sessions() as session:
        user = repo_users.create_user(session=session, username=f"{role}-{uuid.uuid4().hex[:8]}", full_name="陈调解员",
                                      role=role, password_hash=hash_password(PASSWORD), **scope)
        session.commit()
        session.refresh(user)
        return user


async def headers(api: httpx.AsyncClient, user: User) -> dict[str, str]:
    response = await api.post("/auth/token", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_one_reads_and_changes_ones_own_contact(locked: httpx.AsyncClient, sessions):
    mediator = account(sessions, "mediator", committee_id="huangpu")
    mine = await headers(locked, mediator)
    first = (await locked.get("/me/contact", headers=mine)).json()
    assert first == {"email": "", "mobile": "", "notify_by": ["email", "sms"]}  # both, where a contact is known

    changed = await locked.put("/me/contact", headers=mine,
                               json={"email": "chen@example.cn", "mobile": "+86 13812345678", "notify_by": ["sms"]})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"email": "chen@example.cn", "mobile": "13812345678", "notify_by": ["sms"]}

    partly = await locked.put("/me/contact", headers=mine, json={"notify_by": []})  # the outbox only
    assert partly.json() == {"email": "chen@example.cn", "mobile": "13812345678", "notify_by": []}
    with sessions() as session:
        stored = session.get(User, mediator.id)
        assert (stored.contact_email, stored.contact_mobile, stored.notify_by) == ("chen@example.cn", "13812345678", [])


@pytest.mark.parametrize("body", [{"email": "not-an-address"}, {"mobile": "12345"}, {"mobile": "12812345678"},
                                  {"notify_by": ["fax"]}, {"phone": "13812345678"}])
async def test_a_bad_contact_is_a_clear_422(locked: httpx.AsyncClient, sessions, body: dict):
    mine = await headers(locked, account(sessions, "intake", committee_id="huangpu"))
    response = await locked.put("/me/contact", headers=mine, json=body)
    assert response.status_code == 422, response.text


async def test_an_admin_sets_an_accounts_contact_and_sees_the_mobile_masked(locked: httpx.AsyncClient, sessions):
    admin = await headers(locked, account(sessions, "admin"))
    director = account(sessions, "director", committee_id="huangpu")
    response = await locked.patch(f"/users/{director.id}/contact", headers=admin,
                                  json={"email": "wang@example.cn", "mobile": "13912345678"})
    assert response.status_code == 200, response.text
    assert response.json() == {"email": "wang@example.cn", "mobile": "139****5678", "notify_by": ["email", "sms"]}
    own = (await locked.get("/me/contact", headers=await headers(locked, director))).json()
    assert own["mobile"] == "13912345678"  # in full for oneself
    missing = await locked.patch("/users/nobody/contact", headers=admin, json={"email": ""})
    assert missing.status_code == 404
    refused = await locked.patch(f"/users/{director.id}/contact", headers=await headers(locked, director),
                                 json={"email": ""})
    assert refused.status_code == 403  # only an administrator changes another's


async def test_an_expert_account_has_its_own_contact(locked: httpx.AsyncClient, sessions):
    from tests.pools import add_expert, make_city

    expert = add_expert(sessions, make_city(sessions), "contact", ["obstetrics"], phone="13712345678")
    mine = await headers(locked, account(sessions, "expert", expert_id=expert.id))
    response = await locked.put("/me/contact", headers=mine, json={"email": "zhuanjia@example.cn"})
    assert response.status_code == 200 and response.json()["email"] == "zhuanjia@example.cn"
