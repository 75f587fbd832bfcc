"""The base every API schema shares: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        str_strip_whitespace=True,
    )


class RequestModel(ApiModel):
    """A request body. Values must already be of the JSON type declared: `{"full": 0}` is not
    a boolean and `"5"` is not a number, so a client's mistake is a 400, not a guess."""

    model_config = ConfigDict(strict=True)


class PageMeta(ApiModel):
    page: int
    page_size: int
    total: int
    total_pages: int


class Envelope(ApiModel, Generic[T]):
    """API.md's success shape: `{success: true, data, meta?}`."""

    success: bool = True
    data: T
    meta: dict[str, Any] | PageMeta | None = Field(default=None)
