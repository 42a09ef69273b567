"""Example data shipped with the tool envs (``toolcall_example.jsonl``)."""
