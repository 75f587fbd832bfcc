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
