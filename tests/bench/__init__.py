"""``make bench``: one table per run, each row beside its baseline measured in the same run."""
