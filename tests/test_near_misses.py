"""Near misses in both directions: the strategies name principals, resources and condition
values that are one edit away from the caller's in every direction (longer, shorter, with a
character before, without the first, another case, another path), so an emulator that
compares by prefix, suffix or without regard to case admits one of them."""
import re

import pytest

from rolecall.strategies.conditions import arn_near_misses, recase_key
from rolecall.strategies.world import NEAR_MISS_DIRECTIONS, ROLE_NAMES, SESSION_NAMES, USER_NAMES, Entity, near_name

# IAM user and role names: https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html
IAM_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
RELATION = {
    "longer": lambda near, name: near.startswith(name),
    "shorter": lambda near, name: name.startswith(near),
    "prefixed": lambda near, name: near.endswith(name),
    "suffix": lambda near, name: name.endswith(near),
}


@pytest.mark.parametrize("name", USER_NAMES + ROLE_NAMES + SESSION_NAMES)
@pytest.mark.parametrize("direction", NEAR_MISS_DIRECTIONS)
def test_a_near_miss_name_is_a_valid_name_one_edit_away_in_its_direction(name, direction):
    near = near_name(name, direction)
    assert near != name and IAM_NAME.fullmatch(near)
    assert RELATION[direction](near, name), f"{direction}: {near!r} vs {name!r}"


def test_a_trust_naming_bob_has_near_misses_on_both_sides():
    """The near miss of issue 18: a trust naming `bob` must also meet `bo` and `bobby`-like
    callers, so a matcher by prefix is caught whichever name is the longer."""
    nears = {near_name("bob", d) for d in NEAR_MISS_DIRECTIONS}
    assert any("bob".startswith(n) for n in nears) and any(n.startswith("bob") for n in nears)


def test_arn_near_misses_cover_every_direction_case_and_path():
    user = Entity("A", "user", "bob", "/")
    misses = dict(arn_near_misses(user))
    assert set(misses) == {*NEAR_MISS_DIRECTIONS, "case", "path"}
    assert misses["case"] == "arn:aws:iam::{{A}}:user/Bob"
    assert misses["path"] == "arn:aws:iam::{{A}}:user/app/bob"
    assert user.arn() not in misses.values()


def test_condition_key_case_variants_keep_the_tag_key():
    assert recase_key("aws:PrincipalTag/team", "upper") == "AWS:PRINCIPALTAG/team"
    assert recase_key("sts:ExternalId", "swapped") == "STS:eXTERNALiD"
    assert recase_key("aws:username", "as-written") == "aws:username"
