"""Time limits (限时办结): dispatch counts each unit's due time with ``shared/time_limits.py``,
which oversight's reopen (重办) counts with too."""

from shared.time_limits import as_time_limit, dues, limit_for

__all__ = ["as_time_limit", "dues", "limit_for"]
