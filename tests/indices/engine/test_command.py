"""``manage.py compute_index``: files in, files out, no database (pytest-django refuses any query here)."""
import csv

import pytest
from django.core.management import CommandError, call_command

from indices.engine import spec

from .builders import identity, methodology, node


@pytest.fixture
def files(tmp_path):
    document = tmp_path / "methodology.json"
    tree = node("I", node("A", identity("a1"), identity("a2")), node("B", identity("b1")))
    document.write_text(spec.dumps(methodology(tree, availability_threshold=0.5)), encoding="utf-8")
    values = tmp_path / "values.csv"
    values.write_text("unit,a1,a2,b1,note\nshanghai,10,20,30,x\nchengdu,40,,60,y\nchongqing,70,80,90,z\n",
                      encoding="utf-8")
    return document, values, tmp_path / "out.csv"


def test_it_writes_every_node_and_the_root_rank(files, capsys):
    document, values, out = files
    call_command("compute_index", methodology=str(document), values=str(values), out=str(out))
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["unit", "I", "A", "a1", "a2", "B", "b1", "rank"]
    assert rows[1] == ["shanghai", "22.5", "15.0", "10.0", "20.0", "30.0", "30.0", "3"]
    assert rows[2] == ["chengdu", "50.0", "40.0", "40.0", "", "60.0", "60.0", "2"]
    assert rows[3][0] == "chongqing" and rows[3][-1] == "1"
    assert "Computed T 1 for 3 units (0 excluded, 0 cells imputed)" in capsys.readouterr().out


def test_ranks_gives_the_rank_at_every_node_blank_where_there_is_none(files):
    document, values, out = files
    ranks = out.with_name("ranks.csv")
    call_command("compute_index", methodology=str(document), values=str(values), out=str(out), ranks=str(ranks))
    assert ranks.read_text(encoding="utf-8").splitlines() == [
        "unit,I,A,a1,a2,B,b1", "shanghai,3,3,3,2,3,3", "chengdu,2,2,2,,2,2", "chongqing,1,1,1,1,1,1"]


def test_it_names_a_missing_indicator_column(files):
    document, values, out = files
    values.write_text("unit,a1,a2\nshanghai,1,2\n", encoding="utf-8")
    with pytest.raises(CommandError, match="has no column for: b1"):
        call_command("compute_index", methodology=str(document), values=str(values), out=str(out))


def test_it_names_a_cell_that_is_not_a_number(files):
    document, values, out = files
    values.write_text("unit,a1,a2,b1\nshanghai,1,two,3\n", encoding="utf-8")
    with pytest.raises(CommandError, match="line 2, column a2: 'two' is not a number"):
        call_command("compute_index", methodology=str(document), values=str(values), out=str(out))


def test_engine_errors_become_command_errors(files):
    document, values, out = files
    tree = node("I", identity("a1"), identity("a2"), identity("b1"), aggregation="geometric")
    document.write_text(spec.dumps(methodology(tree)), encoding="utf-8")
    values.write_text("unit,a1,a2,b1\nshanghai,0,2,3\nchengdu,1,2,3\n", encoding="utf-8")
    with pytest.raises(CommandError, match="the geometric mean of node I needs positive values, but shanghai"):
        call_command("compute_index", methodology=str(document), values=str(values), out=str(out))
