"""Hardening: security headers on every answer, no shared caching of private case data (Reg 42), CORS closed
unless an origin is configured."""

from __future__ import annotations

import httpx

from api.main import create_app
from core.settings import Settings


async def test_every_answer_carries_the_security_headers(api):
    for response in (await api.get("/cases"), await api.get("/cases/nope")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["cache-control"] == "no-store"  # Reg 42: private case data is not cached


async def test_the_interactive_docs_load_only_their_own_scripts(api):
    response = await api.get("/docs")
    policy = response.headers["content-security-policy"]
    assert response.status_code == 200 and "script-src 'self';" in policy and "cdn.jsdelivr.net" not in policy


async def test_cors_is_closed_by_default(api):
    preflight = await api.options("/cases", headers={"Origin": "https://evil.example",
                                                     "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers
    plain = await api.get("/cases", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers


async def test_a_configured_origin_is_allowed(temporal_env, database_url, worker):
    settings = Settings(database_url=database_url, task_queue=worker, cors_origins=["https://tiaojie.example"])
    app = create_app(settings, temporal=temporal_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/cases", headers={"Origin": "https://tiaojie.example"})
            assert response.headers["access-control-allow-origin"] == "https://tiaojie.example"
