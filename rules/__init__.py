"""celerylint's rules: one rule class per module, found by ``celerylint.rule.all_rules``."""
