"""Column helpers shared by the model modules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import mapped_column

from core.db import JSONType, UTCDateTime, utcnow

# BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")

pk = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]
created = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow, nullable=False)]
str20 = Annotated[str, mapped_column(String(20))]
str40 = Annotated[str, mapped_column(String(40))]
str100 = Annotated[str, mapped_column(String(100))]
str200 = Annotated[str, mapped_column(String(200))]
json_dict = Annotated[dict[str, Any], mapped_column(JSONType, default=dict, nullable=False)]
