"""Authentication: passwords hashed with Argon2, the OAuth2 password flow with short-lived signed tokens and
refresh, API keys for service accounts, rate-limited logins, and no header-named actors outside dev mode."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from api.main import create_app
from core.security import hash_password, issue_token
from core.settings import Settings
from models import repo_users

SECRET = "test-secret-of-at-least-thirty-two-characters!"
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def locked(temporal_env, database_url, worker) -> AsyncIterator[httpx.AsyncClient]:
    """The API as production runs it: no dev-mode headers, a real secret."""
    settings = Settings(database_url=database_url, task_queue=worker, dev_mode=False, secret_key=SECRET,
                        login_attempts=3)
    app = create_app(settings, temporal=temporal_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def user(sessions) -> dict[str, str]:
    username = f"u{uuid.uuid4().hex[:8]}"
    with sessions() as session:
        created = repo_users.create_user(session=session, username=username, full_name="陈调解员", role="mediator",
                                         committee_id="huangpu", password_hash=hash_password(PASSWORD))
        session.commit()
        return {"username": username, "id": created.id}


async def login(api: httpx.AsyncClient, username: str, password: str = PASSWORD) -> httpx.Response:
    return await api.post("/auth/token", data={"username": username, "password": password})


class TestPasswords:
    def test_a_password_is_stored_as_an_argon2_hash(self, sessions, user):
        with sessions() as session:
            stored = repo_users.find_user(session=session, username=user["username"])
            assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash


class TestLogin:
    async def test_the_password_flow_gives_tokens_that_act_as_the_user(self, locked, user):
        response = await login(locked, user["username"])
        assert response.status_code == 200, response.text
        tokens = response.json()
        assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
        me = await locked.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.status_code == 200 and me.json()["role"] == "mediator"
        assert me.json()["committee_id"] == "huangpu"

    async def test_a_wrong_password_is_401_and_names_nothing(self, locked, user):
        response = await login(locked, user["username"], "wrong")
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        unknown = await login(locked, "nobody-at-all", "wrong")
        assert unknown.status_code == 401 and unknown.json()["detail"] == response.json()["detail"]

    async def test_failed_logins_are_rate_limited(self, locked, user):
        for _ in range(3):
            assert (await login(locked, user["username"], "wrong")).status_code == 401
        blocked = await login(locked, user["username"])  # even the right password waits
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0

    async def test_without_credentials_outside_dev_mode_every_route_is_401(self, locked):
        response = await locked.get("/cases", headers={"X-Actor-Id": "m1", "X-Actor-Role": "director"})
        assert response.status_code == 401 and response.json()["code"] == "unauthorized"


class TestTokens:
    async def test_a_refresh_token_gives_a_new_pair_and_is_not_an_access_token(self, locked, user):
        tokens = (await login(locked, user["username"])).json()
        refreshed = await locked.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200 and refreshed.json()["access_token"]
        as_access = await locked.get("/auth/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
        assert as_access.status_code == 401

    async def test_an_expired_or_forged_token_is_401(self, locked, user):
        expired, _ = issue_token(subject=user["id"], kind="access", version=0, ttl=timedelta(seconds=-1),
                                 secret=SECRET)
        forged, _ = issue_token(subject=user["id"], kind="access", version=0, ttl=timedelta(minutes=5),
                                secret="another-secret-of-at-least-thirty-two-chars")
        for token in (expired, forged, "not-a-token"):
            response = await locked.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, token

    async def test_a_password_reset_revokes_earlier_tokens(self, locked, sessions, user):
        tokens = (await login(locked, user["username"])).json()
        with sessions() as session:
            repo_users.set_password(session=session, username=user["username"], password_hash=hash_password("new"))
            session.commit()
        response = await locked.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert response.status_code == 401


class TestApiKeys:
    async def test_an_admin_creates_a_key_that_acts_as_its_service_account_until_revoked(
        self, locked, sessions, user
    ):
        with sessions() as session:
            repo_users.create_user(session=session, username=f"admin-{user['username']}", full_name="管理员",
                                   role="admin", password_hash=hash_password(PASSWORD))
            session.commit()
        admin = (await login(locked, f"admin-{user['username']}")).json()["access_token"]
        created = await locked.post("/auth/api-keys", json={"username": user["username"], "name": "nightly export"},
                                    headers={"Authorization": f"Bearer {admin}"})
        assert created.status_code == 201, created.text
        key = created.json()["key"]
        me = await locked.get("/auth/me", headers={"X-API-Key": key})
        assert me.status_code == 200 and me.json()["username"] == user["username"]
        with sessions() as session:  # stored as a digest only
            assert repo_users.find_api_key(session=session, digest=key) is None
        revoked = await locked.delete(f"/auth/api-keys/{created.json()['id']}",
                                      headers={"Authorization": f"Bearer {admin}"})
        assert revoked.status_code == 204
        assert (await locked.get("/auth/me", headers={"X-API-Key": key})).status_code == 401

    async def test_only_an_admin_creates_keys(self, locked, user):
        token = (await login(locked, user["username"])).json()["access_token"]
        response = await locked.post("/auth/api-keys", json={"username": user["username"], "name": "x"},
                                     headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403


def test_the_built_in_secret_is_refused_outside_dev_mode():
    with pytest.raises(RuntimeError, match="MEDIATION_SECRET_KEY"):
        create_app(Settings(dev_mode=False))
    with pytest.raises(RuntimeError):
        create_app(Settings(dev_mode=False, secret_key="short"))
