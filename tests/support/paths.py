"""Files the tests read: the repository's example policy and suite, the case histories and
the airline data set beside the repository."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE_POLICY = ROOT / "policies.example.yaml"
EXAMPLE_SUITE = ROOT / "policies.example.tests.yaml"
AIRLINE = ROOT.parent / "shared" / "data" / "airline" / "Tweets.csv"
HISTORIES = ROOT / "tests" / "histories"
