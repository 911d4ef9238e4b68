"""The entry point: determinism, the input hash, input checks and the default methodology."""
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from indices.engine import spec
from indices.engine.compute import ENGINE_VERSION, compute, input_hash
from indices.engine.errors import EngineError
from indices.engine.settings import EngineSettings

from .builders import identity, indicator, matrix, methodology, node, units

CCFI = spec.loads((Path(__file__).parents[3] / "methodology" / "methodologies" / "ccfi-2025.1.json").read_text("utf-8"))


def ccfi_values(seed=1):
    values = np.random.default_rng(seed).lognormal(size=(30, len(CCFI.indicators())))
    values[3, 5] = math.nan
    return values


def test_the_default_methodology_computes_with_its_own_settings():
    result = compute(methodology=CCFI, units=units(30), values=ccfi_values())
    assert result.codes[0] == "CCFI" and len(result.indicator_codes) == 33
    assert sorted(result.ranks[:, 0].tolist()) == list(range(1, 31))
    assert sum(result.effective_weights[code] for code in result.indicator_codes) == pytest.approx(1.0)
    assert result.engine_version == ENGINE_VERSION and len(result.input_hash) == 64


def test_same_inputs_give_bit_identical_outputs():
    first = compute(methodology=CCFI, units=units(30), values=ccfi_values(), uncertainty=True, sensitivity=True)
    second = compute(methodology=CCFI, units=units(30), values=ccfi_values(), uncertainty=True, sensitivity=True)
    assert first.input_hash == second.input_hash
    assert first.scores.tobytes() == second.scores.tobytes() and first.ranks.tobytes() == second.ranks.tobytes()
    first_band, second_band = first.uncertainty.bands["CCFI"], second.uncertainty.bands["CCFI"]
    assert first_band.samples.tobytes() == second_band.samples.tobytes()
    assert first.sensitivity.rank_shift.tobytes() == second.sensitivity.rank_shift.tobytes()


def test_the_hash_changes_with_any_input():
    base = dict(methodology=CCFI, settings=CCFI.engine, units=units(30), values=ccfi_values())
    digest = input_hash(**base)
    changed_value = ccfi_values()
    changed_value[0, 0] += 1e-9
    renamed = dataclasses.replace(CCFI, root=dataclasses.replace(CCFI.root, weight=2.0))
    assert input_hash(**{**base, "values": changed_value}) != digest
    assert input_hash(**{**base, "units": [*units(29), "other"]}) != digest
    assert input_hash(**{**base, "settings": dataclasses.replace(CCFI.engine, imputation="group_mean")}) != digest
    assert input_hash(**{**base, "methodology": renamed}) != digest
    assert input_hash(**{**base, "reference": ccfi_values(2)}) != digest
    # Last period's values count only when last-period imputation uses them.
    assert input_hash(**{**base, "previous": ccfi_values(3)}) == digest


def test_nan_payloads_hash_alike():
    values = ccfi_values()
    other_nan = values.copy()
    other_nan[3, 5] = np.frombuffer(np.array([0x7FF8000000000001], dtype="<u8").tobytes(), dtype="<f8")[0]
    assert input_hash(methodology=CCFI, settings=CCFI.engine, units=units(30), values=values) == input_hash(
        methodology=CCFI, settings=CCFI.engine, units=units(30), values=other_nan)


def test_results_are_read_only():
    result = compute(methodology=CCFI, units=units(30), values=ccfi_values())
    with pytest.raises(ValueError):
        result.scores[0, 0] = 1.0


def test_explicit_settings_override_the_documents():
    tree = node("I", identity("a"), identity("b", weight=3.0))
    result = compute(methodology=methodology(tree), settings=EngineSettings(weighting="equal"), units=units(1),
                     values=matrix([20, 80]))
    assert result.scores[0, 0] == 50.0


@pytest.mark.parametrize(("values", "message"), [
    (matrix([1, 2, 3]), "values must be a 1 × 2 matrix (units × indicators), not 1 × 3"),
    (matrix([1, math.inf]), "values contain an infinite value"),
])
def test_it_refuses_malformed_values(values, message):
    tree = node("I", identity("a"), identity("b"))
    with pytest.raises(EngineError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compute(methodology=methodology(tree), units=units(1), values=values)


def test_it_refuses_duplicate_units_and_unknown_settings():
    tree = node("I", identity("a"))
    with pytest.raises(EngineError, match="a unit is listed twice"):
        compute(methodology=methodology(tree), units=["x", "x"], values=matrix([1], [2]))
    with pytest.raises(EngineError, match="the engine setting imputation cannot be mice"):
        compute(methodology=methodology(tree, imputation="mice"), units=["x"], values=matrix([1]))


def test_it_refuses_goalposts_without_posts():
    tree = node("I", indicator("a", method="goalposts", params={"lower": 1.0}))
    with pytest.raises(EngineError, match="goalposts normalisation of a needs the parameter upper") as error:
        compute(methodology=methodology(tree), units=["x"], values=matrix([1]))
    assert error.value.indicator == "a"


def test_it_refuses_when_no_data_is_left():
    tree = node("I", identity("a"))
    with pytest.raises(EngineError, match="no indicator has enough data"):
        compute(methodology=methodology(tree), units=units(2), values=matrix([math.nan], [math.nan]))


def test_errors_carry_a_translatable_template():
    tree = node("I", indicator("a"), indicator("b"), aggregation="geometric")
    with pytest.raises(EngineError) as error:
        compute(methodology=methodology(tree), units=units(2), values=matrix([1, 2], [3, 4]))
    assert "%(node)s" in error.value.message and error.value.params["node"] == "I"
    assert error.value.render(lambda message: "译：" + message).startswith("译：the geometric mean of node I")


def test_the_result_document_is_plain_json():
    result = compute(methodology=CCFI, units=units(30), values=ccfi_values(), uncertainty=True, sensitivity=True)
    document = json.loads(json.dumps(result.document(), allow_nan=False))
    assert document["input_hash"] == result.input_hash
    assert document["availability"]["indicators"]["M1.1"] == 1.0
    assert {"indicators", "groups", "flags"} <= set(document["audit"])
    assert document["uncertainty"]["samples"] == 1000 and set(document["sensitivity"]) >= {"M1.1", "M"}
    assert result.levels["CCFI"] == 0 and result.levels["M1.1"] == 3 and result.parents["M1"] == "M"
