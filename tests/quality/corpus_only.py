"""A planted emulator bug that only the committed corpus reveals: no property's strategy makes
the calls that show it, so only `rolecall run`'s corpus replay (rolecall/corpus.py) finds it.

- "access keys unlimited": a user may have any number of access keys. AWS refuses a third with
  LimitExceeded "Cannot exceed quota for AccessKeysPerUser: 2" (recorded,
  scenarios/aws-recorded/iam_users-access-key-limit.json;
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).

Loaded like an emulator, by its `module:factory` name (from the repository root)::

    PYTHONPATH=. rolecall run --target tests.quality.corpus_only:access_keys_unlimited
"""
from __future__ import annotations

from rolecall.targets.reference import iam_users

from .mutants import Mutant, MutantTarget, _setattr

ACCESS_KEYS_UNLIMITED = Mutant(
    "access-keys-unlimited", lambda: _setattr((iam_users, "ACCESS_KEYS_PER_USER", 10**6)),
    "CreateAccessKey has no quota: a user gets a third access key", property="(none: the corpus)",
    source="https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html")


def access_keys_unlimited() -> MutantTarget:
    """The reference model without IAM's quota of two access keys per user."""
    return MutantTarget(ACCESS_KEYS_UNLIMITED)
