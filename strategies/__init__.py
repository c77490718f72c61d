"""Hypothesis strategies that generate rolecall scenarios: one family per seed behaviour,
built from shared pieces (`world`, `principals`, `conditions`, `policies`, `requests`).

`FAMILIES` names every family; the properties in `rolecall.conformance` use them.
"""
from rolecall.strategies.assume_role import assume_role_scenarios
from rolecall.strategies.cross_account_s3 import cross_account_s3_scenarios
from rolecall.strategies.delegation import cross_account_scenarios, delegation_scenarios
from rolecall.strategies.input_validation import input_validation_scenarios
from rolecall.strategies.instance_profiles import instance_profile_scenarios
from rolecall.strategies.policy_language import policy_language_scenarios
from rolecall.strategies.role_chains import role_chain_scenarios
from rolecall.strategies.service_linked_roles import service_linked_role_scenarios
from rolecall.strategies.stateful import lockstep_scenarios
from rolecall.strategies.temporary_credentials import temporary_credentials_scenarios

FAMILIES = {
    "temporary_credentials": temporary_credentials_scenarios,
    "assume_role": assume_role_scenarios,
    "delegation": delegation_scenarios,
    "cross_account": cross_account_scenarios,
    "service_linked_roles": service_linked_role_scenarios,
    "instance_profiles": instance_profile_scenarios,
    "cross_account_s3": cross_account_s3_scenarios,
    "role_chains": role_chain_scenarios,
    "policy_language": policy_language_scenarios,
    "input_validation": input_validation_scenarios,
    "stateful": lockstep_scenarios,
}

__all__ = ["FAMILIES", *(f.__name__ for f in FAMILIES.values())]
