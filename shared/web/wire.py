"""Field types for JSON request bodies that accept exactly what the OpenAPI document promises.

pydantic's lax mode also takes ``0`` for a date (1970-01-01) and ``"12"`` or ``true`` for an
integer; its strict mode refuses what JSON Schema allows (``125.0`` as an integer, an ISO
string for a date, since FastAPI validates parsed Python objects). schemathesis reports both.
Use these in command bodies; enums, strings and lists are already exact.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _date_only(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise PydanticCustomError("date_type", "Input should be a date (YYYY-MM-DD)")


def _datetime_only(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_DATETIME.match(value)):
        return value
    raise PydanticCustomError("datetime_type", "Input should be an RFC 3339 date-time")


def _int_only(value: Any) -> Any:
    # JSON Schema counts 125.0 as an integer, so it is one here too; "125" and true are not.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise PydanticCustomError("int_type", "Input should be an integer")


JsonInt = Annotated[int, BeforeValidator(_int_only)]
IsoDate = Annotated[date, BeforeValidator(_date_only)]
IsoDateTime = Annotated[datetime, BeforeValidator(_datetime_only)]

JSON_INT = BeforeValidator(_int_only)
"""JsonInt's check alone, to put after bounds in an optional field:
``Annotated[int, Field(ge=1), JSON_INT] | None`` keeps the bounds in the schema, where
``Annotated[JsonInt, Field(ge=1)] | None`` loses them."""
