"""The demo city: an empty store filled through the ledger's own commands (`ledger demo`)."""

from ledger.demo.builder import DemoBeneficiary, DemoCity, DemoContractor, DemoRefused, DemoTranche, StoreNotEmpty, build_demo_city

__all__ = ["DemoBeneficiary", "DemoCity", "DemoContractor", "DemoRefused", "DemoTranche", "StoreNotEmpty", "build_demo_city"]
