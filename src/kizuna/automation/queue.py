"""The huey storage classes Kizuna's settings name."""

from pathlib import Path

from huey import SqliteHuey


class DataDirSqliteHuey(SqliteHuey):
    """SQLite queue in the data dir, which may not exist yet."""

    def get_storage(self, **kwargs):
        filename = kwargs.get("filename")
        if filename:
            Path(filename).parent.mkdir(parents=True, exist_ok=True)
        return super().get_storage(**kwargs)
