"""The harness: where `impl/` (the implementation) and `model/` (the oracle) meet.

Scenarios, the crash explorer, the mutant runner and the fuzz runner live
here, together with the `kevy-verify` console script, which adds them to the
file tools of `impl/cli.py`.
"""
