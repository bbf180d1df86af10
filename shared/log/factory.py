"""Open the log the settings name."""

from __future__ import annotations

from shared.log.port import EventLog
from shared.settings import LedgerSettings


async def open_log(settings: LedgerSettings) -> EventLog:
    if settings.log_backend == "kafka":
        from shared.log.kafka import KafkaLog

        return await KafkaLog.open(settings)
    from shared.log.sqlite import SqliteLog
    from shared.private_files import private_file

    private_file(settings.sqlite_log_file)  # 0600 (its folder 0700) before SQLite opens it
    return await SqliteLog.open(settings.sqlite_log_file, settings.log_partitions)
