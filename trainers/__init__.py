"""Post-training loops (GRPO/PPO) fed by rollouts; torch/TRL imported lazily (extra `[train]`)."""
