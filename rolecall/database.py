"""Hypothesis example databases, chosen by configuration: the shared memory of the search.

- `directory` (local default): `.hypothesis/examples` under the working directory, or
  ROLECALL_DATABASE_DIR.
- `redis`: a real Redis server at ROLECALL_REDIS_URL (e.g. redis://127.0.0.1:6379/0), shared
  by every worker and machine; counterexamples found anywhere are replayed first everywhere.
- `github`: Hypothesis's GitHub artifact database for CI (ROLECALL_GITHUB_REPO=owner/repo),
  read-only, multiplexed with the local directory so new findings are still kept.
"""
from __future__ import annotations

import os

from hypothesis.database import (DirectoryBasedExampleDatabase, ExampleDatabase, MultiplexedDatabase,
                                 ReadOnlyDatabase)

KINDS = ("directory", "redis", "github", "none")


class DatabaseError(ValueError):
    pass


def _directory() -> ExampleDatabase:
    return DirectoryBasedExampleDatabase(os.environ.get("ROLECALL_DATABASE_DIR", ".hypothesis/examples"))


def example_database(kind: str | None = None) -> ExampleDatabase | None:
    kind = kind or os.environ.get("ROLECALL_DATABASE", "directory")
    if kind == "none":
        return None
    if kind == "directory":
        return _directory()
    if kind == "redis":
        url = os.environ.get("ROLECALL_REDIS_URL")
        if not url:
            raise DatabaseError("the redis example database needs ROLECALL_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
        try:
            import redis
            from hypothesis.extra.redis import RedisExampleDatabase
        except ImportError:
            raise DatabaseError("the redis example database needs the 'redis' package: "
                                "pip install 'rolecall[redis]'") from None
        client = redis.Redis.from_url(url)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise DatabaseError(f"Redis at {url} did not answer: {exc}") from None
        return RedisExampleDatabase(client, key_prefix=b"rolecall-example:")
    if kind == "github":
        repo = os.environ.get("ROLECALL_GITHUB_REPO", "")
        owner, _, name = repo.partition("/")
        if not owner or not name:
            raise DatabaseError("the github example database needs ROLECALL_GITHUB_REPO=owner/repo")
        from hypothesis.database import GitHubArtifactDatabase

        return MultiplexedDatabase(_directory(), ReadOnlyDatabase(GitHubArtifactDatabase(owner, name)))
    raise DatabaseError(f"unknown example database {kind!r} (known: {', '.join(KINDS)})")
