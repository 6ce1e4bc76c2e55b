"""Pure policy logic: schema, YAML loading with positions, CEL conditions, scoring, templates,
the compiler and triage. No I/O beyond reading a policy file, no Temporal."""
