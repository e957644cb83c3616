"""The settings ``kvsigner bench`` gives the stack it starts."""

from __future__ import annotations

from ops.bench.target import stack_env


def test_the_started_stack_paces_to_no_quota_and_never_limits_the_api_key() -> None:
    env = stack_env({}, environ={})
    assert env["KVSIGNER_VAULT_RATE_LIMIT"] == "0"  # the emulator it starts has no quota
    assert env["KVSIGNER_API_RATE_LIMIT"] == "1000"


def test_a_vault_limit_in_the_environment_still_applies() -> None:
    # The stack takes the environment as it is, so leaving the setting out keeps its value.
    assert "KVSIGNER_VAULT_RATE_LIMIT" not in stack_env(
        {}, environ={"KVSIGNER_VAULT_RATE_LIMIT": "1800"})


def test_settings_passed_in_win() -> None:
    env = stack_env({"KVSIGNER_VAULT_RATE_LIMIT": "480", "KVSIGNER_API_RATE_LIMIT": "5"},
                    environ={})
    assert env["KVSIGNER_VAULT_RATE_LIMIT"] == "480"
    assert env["KVSIGNER_API_RATE_LIMIT"] == "5"
