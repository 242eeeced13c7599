"""What the API modules share: dependencies, path parameters, error conversion."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from pydantic import Field

from ikaros.errors import IkarosError
from ikaros.web.deps import AppContext, Principal, context, principal

__all__ = ["Ctx", "IdPath", "Who", "unprocessable"]

Ctx = Annotated[AppContext, Depends(context)]
Who = Annotated[Principal, Depends(principal)]
IdPath = Annotated[str, Field(min_length=1, max_length=64)]


def unprocessable(exc: IkarosError) -> HTTPException:
    """422 with the error's one-line message."""
    return HTTPException(422, exc.message)
