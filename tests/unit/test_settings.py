"""Settings read from the environment: values in range are taken, others refused with an
error naming the variable."""

from __future__ import annotations

import pytest

from worker.settings import Settings, SettingsError


def test_worker_niceness_defaults_to_zero_and_takes_0_to_19() -> None:
    assert Settings.from_env({}).worker_nice == 0
    assert Settings.from_env({"KVSIGNER_WORKER_NICE": "10"}).worker_nice == 10
    assert Settings.from_env({"KVSIGNER_WORKER_NICE": "19"}).worker_nice == 19


@pytest.mark.parametrize("raw", ["-1", "20", "ten", ""])
def test_a_niceness_out_of_range_is_refused_by_name(raw: str) -> None:
    with pytest.raises(SettingsError, match="KVSIGNER_WORKER_NICE"):
        Settings.from_env({"KVSIGNER_WORKER_NICE": raw})


def test_a_choice_is_taken_in_any_case_and_others_are_refused_with_the_options() -> None:
    assert Settings.from_env({"KVSIGNER_AZURE_CREDENTIAL": " Managed_Identity "}) \
        .azure_credential == "managed_identity"
    assert Settings.from_env({"KVSIGNER_LOG_LEVEL": "debug"}).log_level == "DEBUG"
    with pytest.raises(SettingsError, match="KVSIGNER_AZURE_CREDENTIAL='bogus' is not valid: "
                                            "one of default, client_secret"):
        Settings.from_env({"KVSIGNER_AZURE_CREDENTIAL": "bogus"})
