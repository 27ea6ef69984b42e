"""The Ledger's use cases, by area: one small mixin a module, over `base.LedgerUseCases`.

`ledger.application.Ledger` is the one place that composes them, with the infrastructure they share.
"""
