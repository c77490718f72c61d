"""The property catalogue as pytest tests (collected with `pytest --pyargs rolecall.conformance`).

The rolecall pytest plugin parametrizes `rolecall_property` x `rolecall_target_name` and
marks each test with its property's feature (`-m cross_account`, ...).
"""
from rolecall.pytest_plugin import check_property


def test_property(rolecall_property, rolecall_target_name, rolecall_pool, request, record_property, tmp_path):
    check_property(rolecall_property, rolecall_target_name, rolecall_pool, request.config, record_property,
                   scenarios_dir=tmp_path)
