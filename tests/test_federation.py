"""Federated access (issue 20): rolecall's web identity tokens, the scenario keys that declare
them, and what a target that cannot check them answers. The AWS rules themselves are pinned by
the cited files of scenarios/federation/ (tests/test_scenario_corpus.py replays them)."""
import datetime as dt
import json
from pathlib import Path

import pytest

from rolecall import tokens
from rolecall.scenario import FORMAT, ScenarioError, from_dict, load
from rolecall.targets.base import KEYS_NOT_CHECKED
from rolecall.targets.reference import ReferenceTarget, reference

pytestmark = pytest.mark.fast  # pure unit tests (no emulator, no subprocess)

FEDERATION = Path(__file__).resolve().parent.parent / "scenarios" / "federation"
GH = "https://token.actions.githubusercontent.com"
START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def _claims(jwt: str) -> tuple[dict, dict]:
    header, claims, _ = jwt.split(".")
    return json.loads(tokens.b64url_decode(header)), json.loads(tokens.b64url_decode(claims))


def test_a_minted_token_carries_the_claims_with_times_from_the_scenario_start():
    jwt = tokens.mint({"iss": GH, "aud": "sts.amazonaws.com", "sub": "repo:o/r:ref:refs/heads/main", "exp": -60},
                      START, {GH: {"keys": ["k1"]}})
    header, claims = _claims(jwt)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "k1"}
    assert claims["sub"] == "repo:o/r:ref:refs/heads/main"
    assert claims["exp"] == int(START.timestamp()) - 60 and claims["iat"] == int(START.timestamp())


def test_a_forged_token_names_the_issuers_key_but_is_signed_with_another():
    spec = {"iss": GH, "aud": "a", "sub": "s"}
    good = tokens.mint(spec, START, {GH: {"keys": ["k1"]}})
    forged = tokens.mint({**spec, "key": "attacker", "kid": "k1"}, START, {GH: {"keys": ["k1"]}})
    assert _claims(forged) == _claims(good)  # same header and claims ...
    assert forged.rsplit(".", 1)[1] != good.rsplit(".", 1)[1]  # ... another signature
    assert tokens.mint({**spec, "alg": "none"}, START, {}).endswith(".")


def test_the_reference_checks_signatures_with_the_jwks_it_is_given():
    scenario = load(FEDERATION / "web-identity-github-actions.json")
    forged = load(FEDERATION / "web-identity-forged-signature.json")
    assert reference().run(scenario).outcome("assume").outcome == "ok"
    outcome = reference().run(forged).outcome("assume")
    assert (outcome.code, outcome.reason) == ("InvalidIdentityToken", "deny-web-identity-signature")


class NoKeys(ReferenceTarget):
    """A target that says nothing about how it would learn an issuer's keys."""
    web_identity_keys = None


def test_a_target_that_cannot_be_given_the_keys_answers_unsupported_not_a_guess():
    run = NoKeys().run(load(FEDERATION / "web-identity-github-actions.json"))
    assert run.outcome("assume").outcome == "unsupported"
    assert "issuer's keys" in run.outcome("assume").reason


def test_moto_is_declared_not_to_check_tokens():
    from rolecall.targets.moto import MotoAuthTarget, MotoTarget

    assert MotoTarget.web_identity_keys == MotoAuthTarget.web_identity_keys == KEYS_NOT_CHECKED


def _scenario(token: dict, issuers=None) -> dict:
    return {"format": FORMAT, "issuers": issuers if issuers is not None else {GH: {"keys": ["k1"]}},
            "accounts": {"A": {"oidc_providers": {"token.actions.githubusercontent.com": {"client_ids": ["x"]}},
                               "roles": {"r": {"trust": {"Version": "2012-10-17", "Statement": [{
                                   "Effect": "Allow", "Principal": {"Federated": "{{A:oidc-provider/token.actions.githubusercontent.com}}"},
                                   "Action": "sts:AssumeRoleWithWebIdentity"}]}}}}},
            "steps": [{"id": "s", "as": "anonymous", "call": "sts:AssumeRoleWithWebIdentity",
                       "params": {"RoleArn": "{{A:role/r}}", "RoleSessionName": "ci", "WebIdentityToken": {"$token": token}}}]}


@pytest.mark.parametrize("token, issuers, problem", [
    ({"iss": GH, "exp": "soon"}, None, r"\$token\.exp: expected seconds since the scenario started"),
    ({"iss": GH, "subject": "x"}, None, r"\$token\.subject: unknown field 'subject'"),
    ({"iss": GH, "alg": "HS256"}, None, r"\$token\.alg: expected RS256 or none"),
    ({"iss": "https://elsewhere.example"}, None, r"\$token\.key: a token whose iss is not a declared issuer"),
    ({"iss": GH}, {"token.actions.githubusercontent.com": {"keys": ["k1"]}}, r"issuers\.token\..*https:// URL"),
    ({"iss": GH}, {GH: {"keys": []}}, r"keys: expected a non-empty array of key ids"),
])
def test_a_bad_token_or_issuer_is_one_line_naming_the_place(token, issuers, problem):
    with pytest.raises(ScenarioError, match=problem) as info:
        from_dict(_scenario(token, issuers), origin="f.json")
    assert "\n" not in str(info.value)


def test_an_oidc_provider_reference_is_its_arn_and_the_issuers_survive_a_save(tmp_path):
    scenario = from_dict(_scenario({"iss": GH, "aud": "x"}))
    saved = load(scenario.save(tmp_path / "s.json"))
    assert saved.issuers == {GH: {"keys": ["k1"]}}
    run = reference().run(saved)
    assert run.setup_error is None and run.outcome("s").outcome == "ok"
    assert run.outcome("s").result["Provider"] == GH
