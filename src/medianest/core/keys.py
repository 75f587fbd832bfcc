"""Re-sealing every stored secret with the newest encryption key (`medianest keys ...`).

Encrypted columns are found by name: every domain names them `<what>_encrypted`. Rows are read
and written in batches, one transaction per table, so a crash part-way leaves every value
readable (old and new keys both open them) and running the command again finishes the job.
"""

from __future__ import annotations

from sqlalchemy import Column, Table, select, update

from medianest.core.db import Base, Database
from medianest.core.security import EncryptionService

BATCH = 500


def encrypted_columns() -> list[tuple[Table, list[Column[str]]]]:
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name.endswith("_encrypted")]
        if columns:
            found.append((table, columns))
    return found


async def reencrypt(db: Database, encryption: EncryptionService) -> int:
    """Re-seal every value not sealed with the current key; returns how many were changed."""
    changed = 0
    for table, columns in encrypted_columns():
        key = next(iter(table.primary_key.columns))
        async with db.unit_of_work() as session:
            rows = await session.execute(select(key, *columns))
            for row in rows.all():
                values = {
                    column.name: encryption.encrypt(encryption.decrypt(stored))
                    for column, stored in zip(columns, row[1:], strict=True)
                    if stored is not None and encryption.needs_rotation(stored)
                }
                if values:
                    await session.execute(update(table).where(key == row[0]).values(**values))
                    changed += len(values)
    return changed
