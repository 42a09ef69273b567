"""Rollouts: the async runner, the JSONL episode records, and re-verification."""

from nemogym.rollout.records import EpisodeRecord, RecordWriter, completed_keys, read_records
from nemogym.rollout.reverify import reverify_file, reverify_record
from nemogym.rollout.runner import RolloutConfig, RolloutSummary, play_episode, run_rollouts

__all__ = [
    "EpisodeRecord", "RecordWriter", "RolloutConfig", "RolloutSummary", "completed_keys",
    "play_episode", "read_records", "reverify_file", "reverify_record", "run_rollouts",
]
