"""Task sources: procedural determinism, dataset loading from real local files, broken rows."""

from __future__ import annotations

import json

import pytest

from nemogym.tasks import DatasetError, DatasetTasks, ProceduralTasks, Task, load_rows

ROWS = [
    {"id": "a", "question": "What is 1+1?", "answer": "2", "subset": "easy"},
    {"id": "b", "question": "What is 2*3?", "answer": "6", "subset": "easy"},
    {"id": "c", "question": "What is 7^2?", "answer": "49", "subset": "hard"},
]


def _write_jsonl(path, rows, extra_lines=()):
    with path.open("w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
        for line in extra_lines:
            f.write(line + "\n")
    return path


def test_procedural_is_seeded_and_infinite():
    gen = lambda rng, d: Task(prompt=str(rng.randint(0, 10**9)), answer=d)  # noqa: E731
    a, b = ProceduralTasks(gen, 3, name="x"), ProceduralTasks(gen, 3, name="x")
    assert [a.get(i).prompt for i in range(50)] == [b.get(i).prompt for i in range(50)]
    assert a.get(10**9).answer == 3 and a.size is None
    assert ProceduralTasks(gen, 4, name="x").get(0).prompt != a.get(0).prompt
    assert a.index_for_seed(5) == 5
    with pytest.raises(TypeError):
        len(a)


def test_jsonl_with_template_and_broken_rows(tmp_path, caplog):
    path = _write_jsonl(tmp_path / "d.jsonl", ROWS, extra_lines=["{not json", "[1, 2]", ""])
    path.write_text(path.read_text() + json.dumps({"answer": "no question"}) + "\n")
    ds = DatasetTasks(path, prompt_template="Q: {question} ({subset})")
    assert len(ds) == 3 and ds.get(2).prompt == "Q: What is 7^2? (hard)"
    assert ds.get(0).answer == "2" and ds.get(0).id == "a" and ds.get(0).subset == "easy"
    assert ds.get(1).metadata["question"] == "What is 2*3?"
    assert len(ds.skipped) == 1 and "question" in ds.skipped[0][1]  # the row without a question
    assert "not JSON" in caplog.text


def test_field_mapping_and_seed_picks_a_task(tmp_path):
    rows = [{"problem": f"p{i}", "solution": str(i)} for i in range(10)]
    ds = DatasetTasks(_write_jsonl(tmp_path / "m.jsonl", rows), question_field="problem",
                      answer_field="solution", id_field=None)
    assert ds.get(4).prompt == "p4" and ds.get(4).answer == "4"
    assert ds.index_for_seed(3) == ds.index_for_seed(3)
    assert {ds.index_for_seed(s) for s in range(100)} == set(range(10))


def test_parquet_and_save_to_disk_and_dataset_object(tmp_path):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "d.parquet")
    assert DatasetTasks(tmp_path / "d.parquet").get(1).answer == "6"
    ds = datasets.Dataset.from_list(ROWS)
    ds.save_to_disk(str(tmp_path / "saved"))
    assert DatasetTasks(tmp_path / "saved").get(2).answer == "49"
    datasets.DatasetDict({"test": ds}).save_to_disk(str(tmp_path / "saved_dict"))
    assert len(DatasetTasks(tmp_path / "saved_dict", split="test")) == 3
    assert DatasetTasks(ds, limit=2).size == 2


def test_hf_loader_on_local_files(tmp_path):
    # The HF `datasets` path (load_dataset by builder name) on local files: no network needed.
    _write_jsonl(tmp_path / "train.jsonl", ROWS)
    import datasets

    hf = datasets.load_dataset("json", data_files=str(tmp_path / "train.jsonl"), split="train")
    assert DatasetTasks(hf).get(0).answer == "2"
    assert load_rows(hf)[2]["answer"] == "49"


def test_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        DatasetTasks(tmp_path / "missing.jsonl")
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(DatasetError, match="unsupported"):
        DatasetTasks(tmp_path / "x.csv")
    _write_jsonl(tmp_path / "bad.jsonl", [{"q": 1}])
    with pytest.raises(DatasetError, match="no usable rows"):
        DatasetTasks(tmp_path / "bad.jsonl")
    with pytest.raises(DatasetError, match="could not load HF dataset"):
        DatasetTasks("no-such-org/no-such-dataset-xyz")
