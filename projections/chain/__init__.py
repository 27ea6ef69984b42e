"""Tamper evidence: the hash chain kept beside the read models, signed checkpoints,
verification and export. The pure chain computation is ledger.chain."""
