#!/usr/bin/env bash
# The project's test command: makes sure a RabbitMQ broker is reachable (installing
# and starting Debian's rabbitmq-server when none is), then runs every test.
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

# Python clients (pyvcloud, vcd-cli, pyVmomi) used as third-party test clients.
if [ -x scripts/python-clients.sh ]; then
    scripts/python-clients.sh
fi

export PROPTEST_CASES="${PROPTEST_CASES:-64}"
cargo test --workspace --all-targets --no-fail-fast
cargo test --workspace --doc
