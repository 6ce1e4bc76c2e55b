"""Learning from labelled mentions: fitting classifiers (`training`), measuring a policy on
labelled history (`evaluation`), retraining across folds (`retraining`), and reading the
files they take (`files`). The featuriser stays in rules/: models run at triage time."""
