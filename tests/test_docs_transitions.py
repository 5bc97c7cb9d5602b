"""The stage-transition table of docs/sync-protocol.md states exactly the shared vectors
(tests/vectors/stage_transitions.json, which the engine's and the phone's tests run): the docs
cannot drift from what is tested."""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VECTORS = json.loads((ROOT / "tests" / "vectors" / "stage_transitions.json").read_text("utf-8"))
DOC = ROOT / "docs" / "sync-protocol.md"
HEADER = "| mutation ↓ · stage before → |"


def _cells(line):
    return [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]


def doc_table():
    """(stages of the header, {mutation: {stage before: outcome in the vectors' notation}})."""
    lines = DOC.read_text("utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(HEADER)]
    assert len(starts) == 1, f"{DOC.name}: expected one table headed {HEADER!r}"
    stages = _cells(lines[starts[0]])[1:]
    table = {}
    for line in lines[starts[0] + 2:]:
        if not line.startswith("|"):
            break
        mutation, *outcomes = _cells(line)
        assert len(outcomes) == len(stages), f"{DOC.name}: row {mutation} has a wrong cell count"
        table[mutation] = {before: _decode(before, cell) for before, cell in zip(stages, outcomes)}
    return stages, table


def _decode(before, cell):
    """The docs' short forms in the vectors' notation: '=' stays, '✗' invalid_transition."""
    if cell == "=":
        return before
    if cell == "✗":
        return "!invalid_transition"
    return cell


def test_the_docs_table_has_the_vectors_stages_and_mutations():
    stages, table = doc_table()
    assert stages == VECTORS["stages"]
    assert list(table) == list(VECTORS["transitions"])


def test_the_docs_table_states_every_transition_of_the_vectors():
    _stages, table = doc_table()
    differences = [f"{mutation} from {before}: docs {table[mutation][before]!r}, vectors {want!r}"
                   for mutation, row in VECTORS["transitions"].items() if mutation in table
                   for before, want in row.items() if table[mutation].get(before) != want]
    assert not differences, "\n".join(differences)
