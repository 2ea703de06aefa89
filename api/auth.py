"""Who is acting. Until accounts and roles exist, the actor is named by request headers; every route already
depends on `current_actor`, so that authentication replaces this function and no route body changes."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import Header

from workflows.contracts import Actor


def current_actor(
    x_actor_id: Annotated[str | None, Header(max_length=100, description="acting user's id")] = None,
    x_actor_name: Annotated[str | None, Header(max_length=200, description="acting user's name (URL-encoded)")] = None,
    x_actor_role: Annotated[str | None, Header(max_length=32, description="acting user's role")] = None,
) -> Actor:
    return Actor(
        id=x_actor_id or "staff",
        name=unquote(x_actor_name) if x_actor_name else "调解委员会工作人员",
        role=x_actor_role or "staff",
    )
