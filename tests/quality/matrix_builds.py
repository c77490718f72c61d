"""Three versions of one emulator for `rolecall matrix` (tests/test_matrix.py): the builds of
two_builds.py, each declaring its product-version as a server target reads its own.
- 1: Action names matched case-sensitively;
- 2: that, and NotAction ignored (the NotAction finding appears);
- 3: NotAction ignored only (the Action-case finding disappears).
"""
from __future__ import annotations

from two_builds import Build, action_case_bug, not_action_bug


class Versioned(Build):
    version = ""

    def product_version(self):
        return "emulator", self.version, ""


class V1(Versioned):
    version, bugs = "1.0", (action_case_bug,)


class V2(Versioned):
    version, bugs = "2.0", (action_case_bug, not_action_bug)


class V3(Versioned):
    version, bugs = "3.0", (not_action_bug,)


def v1() -> V1:
    return V1()


def v2() -> V2:
    return V2()


def v3() -> V3:
    return V3()
