"""Gate for tests that need the shared strict OTLP checker.

Without the checker a test can still see that bodies arrive, but not that they
are valid OTLP, so it must not pass quietly: in CI (env CI non-empty) a missing
checker is a failure; elsewhere the test is skipped with a loud reason.
"""
import os
import sys
from pathlib import Path

import pytest

# <repo>/../shared/tools/otlp-json-check.py, the same default as receiver.py's.
SHARED_CHECKER = (Path(__file__).resolve().parents[2].parent
                  / 'shared' / 'tools' / 'otlp-json-check.py')

_shouted = False


def require_shared_checker(path=None, environ=None):
    """Return the checker's path; fail (CI) or skip loudly when it is missing."""
    global _shouted
    path = Path(SHARED_CHECKER if path is None else path)
    environ = os.environ if environ is None else environ
    if path.is_file():
        return path
    if environ.get('CI'):
        pytest.fail(f'the strict OTLP checker is missing at {path} and CI is set: '
                    f'bodies cannot be verified, so this run cannot pass', pytrace=False)
    reason = (f'!!! STRICT OTLP CHECKER MISSING at {path}: bodies cannot be checked '
              f'against the OTLP protos, test skipped (with CI set this fails) !!!')
    if not _shouted:
        # Straight to the real stderr, past pytest's capture, once per run.
        sys.__stderr__.write(f'\n{reason}\n')
        sys.__stderr__.flush()
        _shouted = True
    pytest.skip(reason)
