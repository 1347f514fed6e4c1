"""Runs tests of the Python client (modules, classes or methods) under unittest for ctest.

    /usr/bin/python3 run_tests.py test_unit [test_audit_e2e.AuditEndToEndTest ...]

Exit status: 0 all passed; 1 a failure or an error; 77 (ctest's
SKIP_RETURN_CODE) when nothing failed but tests were skipped, e.g. because
the server answers UNIMPLEMENTED for a service that has not landed yet.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    sys.path.insert(0, HERE)
    suite = unittest.defaultTestLoader.loadTestsFromNames(sys.argv[1:])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.skipped:
        for test, reason in result.skipped:
            print(f"SKIPPED {test.id()}: {reason}", file=sys.stderr)
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
