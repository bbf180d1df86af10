"""Reports rebuilt from the log alone: the rates per unit and period (效能考核), folded
independently of every projection so the two can catch each other (``ledger report``)."""
