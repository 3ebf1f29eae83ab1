"""What several packages share: running statistics, checkpoints, logging, seeding."""
