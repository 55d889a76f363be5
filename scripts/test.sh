#!/usr/bin/env bash
# The project's test command: makes sure a RabbitMQ broker is reachable (installing
# and starting Debian's rabbitmq-server when none is), then runs every test: the
# reliability suite's short form (scripts/reliability.sh) and every other test.
#
#   scripts/test.sh            # all tests
#
# A broker given in CSE_TEST_AMQP_URL is used as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/broker.sh
source scripts/broker.sh
ensure_broker
export CSE_TEST_AMQP_URL

# Test fixtures prepared once, before tests run in parallel:
# - third-party Python clients run against the simulator (pyvcloud + vcd-cli, pyVmomi 9.x and 6.7.1)
#   and pytest for the example suite in examples/python (run by vcd-sim/tests/pytest_example.rs);
# - the original CSE 1.2.5 bootstrap scripts the guest model must run unchanged.
for prepare in scripts/python-clients.sh scripts/python-vsphere-clients.sh scripts/fetch-original-scripts.sh; do
    if [ -x "$prepare" ]; then
        "$prepare"
    fi
done

export PROPTEST_CASES="${PROPTEST_CASES:-64}"
# Every test once: those outside the reliability suite, then the suite's short form (its
# groups R1-R6 and their summary, RELIABILITY.md), then the doc tests.
status=0
cargo test --workspace --all-targets --no-run
scripts/reliability.sh --others || status=1
scripts/reliability.sh --short || status=1
cargo test --workspace --doc || status=1
exit $status
