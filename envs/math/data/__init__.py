"""Small example data shipped with the math envs (``mathqa_example.jsonl``)."""
