#!/usr/bin/env bash
# The reliability suite of RELIABILITY.md as one command: the tests of each guarantee group
# (R1 … R6) run group by group, then a summary table (tests, passed, failed, seconds and the
# figures the tests measured).
#
#   scripts/reliability.sh            # the short form (= --short)
#   scripts/reliability.sh --short    # what scripts/test.sh runs: the groups' normal tests
#   scripts/reliability.sh --long     # scaled up: CSE_RELIABILITY=long (longer broker load,
#                                     # more fault rounds), 1,000,000 cases per property of
#                                     # every R5 target in release mode, one target at a time
#                                     # (about an hour of fuzzing on two cores, more to build)
#   scripts/reliability.sh --long --group R5 --group R2   # some groups only
#   scripts/reliability.sh --others   # every workspace test outside the suite (scripts/test.sh)
#
# FUZZ_CASES overrides the long form's cases per property. A broker is made reachable as in
# scripts/test.sh. Exit status: 0 when every group passed.
set -uo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

mode=short
only=()
while [ $# -gt 0 ]; do
    case "$1" in
        --short) mode=short ;;
        --long) mode=long ;;
        --others) mode=others ;;
        --group)
            shift
            only+=("${1:?--group needs a name such as R2}")
            ;;
        -h | --help)
            sed -n '2,15p' "$0"
            exit 0
            ;;
        *)
            echo "reliability.sh: unknown argument '$1' (see --help)" >&2
            exit 2
            ;;
    esac
    shift
done

# One cargo invocation per line: group, package, then cargo's target selection, and after
# `--` the test-name filters (a filtered target's other tests are not part of the group).
# R1's replicas_kill is added below when its file exists.
SUITE=$(
    cat <<'EOF'
R1 cse-server --test replicas --test crash --test crash_lifecycle --test concurrency
R1 cse-server --lib -- ops::lease coordination:: server::tests
R1 tests --test transport_memory
R2 cse-server --lib -- amqp::listener
R2 tests --test transport_faults --test transport_rabbit
R3 cse-vcd --lib -- vcd::retry vcd::tasks vcd::client
R3 cse-server --test vcd_faults
R3 scenarios --test scenario_files -- faults_yaml contention_yaml
R4 cse-server --test ops_faults
R5 cse-core --test ext_envelope
R5 cse-core --test api_routes
R5 cse-core --test api_bodies
R5 cse-core --test limits
R5 cse-core --test config_roundtrip
R5 cse-core --test naming_props
R5 cse-core --test vcd_errors
R5 cse-core --test vcd_roundtrip
R5 cse-vcd --lib -- vcd::xml::
R5 cse-vcd --lib -- vsphere::soap::
R5 cse-vcd --lib -- vcd::query::
R5 cse-tenant --test tenant_cli
R5 vcd-sim --lib -- rest::xml::
R5 vcd-sim --lib -- ext::filters::
R5 vcd-sim --lib -- guest::fs::
R5 vcd-sim --test guest_shell
R5 vcd-sim --test vsphere_properties
R6 cse-core --test config_validation --test config_files
R6 cse-server --test routes --test node_passwords --test cli_commands --test limits --test secrets
EOF
)
R1_KILL=cse-server/tests/replicas_kill.rs
if [ -f "$R1_KILL" ]; then
    SUITE="R1 cse-server --test replicas_kill
$SUITE"
fi

# ----- every other test of the workspace (scripts/test.sh) -----

# Prints one cargo argument list per line: each package's targets the suite does not own,
# and its filtered targets with the suite's filters skipped.
others() {
    cargo metadata --no-deps --format-version 1 --offline |
        SUITE="$SUITE" python3 -c '
import json, os, sys
owned, skips = set(), {}
for line in os.environ["SUITE"].splitlines():
    words = line.split()
    if not words:
        continue
    pkg, rest = words[1], words[2:]
    filters = rest[rest.index("--") + 1:] if "--" in rest else []
    targets = rest[:rest.index("--")] if "--" in rest else rest
    i = 0
    while i < len(targets):
        if targets[i] == "--lib":
            key = (pkg, "lib", "")
            i += 1
        else:
            key = (pkg, "test", targets[i + 1])
            i += 2
        if filters:
            skips.setdefault(key, []).extend(filters)
        else:
            owned.add(key)
for package in json.load(sys.stdin)["packages"]:
    pkg, whole, filtered = package["name"], [], []
    for target in package["targets"]:
        kind = target["kind"][0]
        if kind in ("lib", "rlib", "proc-macro"):
            key, args = (pkg, "lib", ""), ["--lib"]
        elif kind in ("bin", "test", "example", "bench"):
            key, args = (pkg, kind, target["name"]), ["--" + kind, target["name"]]
        else:
            continue
        if key in owned:
            continue
        if key in skips:
            skip = [a for f in skips[key] for a in ("--skip", f)]
            filtered.append(" ".join(["-p", pkg] + args + ["--"] + skip))
        else:
            whole.extend(args)
    if whole:
        print(" ".join(["-p", pkg] + whole))
    for line in filtered:
        print(line)
'
}

if [ "$mode" = others ]; then
    status=0
    while read -r line; do
        [ -n "$line" ] || continue
        echo "== cargo test $line"
        # shellcheck disable=SC2086
        cargo test --no-fail-fast ${line%% -- *} -- $( [[ "$line" == *" -- "* ]] && echo "${line#* -- }") \
            </dev/null || status=1
    done < <(others)
    exit $status
fi

# ----- the suite -----

# shellcheck source=scripts/broker.sh
source scripts/broker.sh
ensure_broker
export CSE_TEST_AMQP_URL
export CI="${CI:-true}"
export CSE_RELIABILITY="$mode"
if [ "$mode" = long ]; then
    FUZZ_CASES="${FUZZ_CASES:-1000000}"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CSE_RELIABILITY_FIGURES="$work/figures"
: >"$CSE_RELIABILITY_FIGURES"

selected() {
    [ ${#only[@]} -eq 0 ] && return 0
    local g
    for g in "${only[@]}"; do [ "$g" = "$1" ] && return 0; done
    return 1
}

declare -A TESTS PASSED FAILED SECS BROKEN
GROUPS_RUN=()

# run GROUP PACKAGE ARGS...: one cargo invocation, its counts added to the group's.
run() {
    local group=$1 pkg=$2
    shift 2
    local log="$work/run.log" env=() targets=() filters=() seen_dash=0 a
    for a in "$@"; do
        if [ "$a" = -- ]; then
            seen_dash=1
        elif [ $seen_dash = 1 ]; then
            filters+=("$a")
        else
            targets+=("$a")
        fi
    done
    local profile=()
    if [ "$group" = R5 ] && [ "$mode" = long ]; then
        env=(PROPTEST_CASES="$FUZZ_CASES" CSE_FUZZ_CASES="$FUZZ_CASES")
        profile=(--release)
    fi
    echo "== $group: cargo test ${profile[*]} -p $pkg ${targets[*]} ${filters[*]:+-- ${filters[*]}}"
    local start=$SECONDS
    env "${env[@]}" cargo test "${profile[@]}" --no-fail-fast -p "$pkg" "${targets[@]}" \
        -- "${filters[@]}" </dev/null 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]} took=$((SECONDS - start))
    local passed failed
    passed=$(sed -nE 's/^test result: [A-Za-z]+\. ([0-9]+) passed.*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
    failed=$(sed -nE 's/^test result: [A-Za-z]+\. [0-9]+ passed; ([0-9]+) failed.*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
    passed=${passed:-0}
    failed=${failed:-0}
    TESTS[$group]=$((${TESTS[$group]:-0} + passed + failed))
    PASSED[$group]=$((${PASSED[$group]:-0} + passed))
    FAILED[$group]=$((${FAILED[$group]:-0} + failed))
    SECS[$group]=$((${SECS[$group]:-0} + took))
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        BROKEN[$group]="cargo exited with $rc"
    fi
    if [ "$group" = R5 ] && [ "$mode" = long ]; then
        echo "R5 ${pkg} ${targets[*]} ${filters[*]}: ${FUZZ_CASES} cases per property, $passed passed, $failed failed, ${took} s" \
            >>"$CSE_RELIABILITY_FIGURES"
    fi
}

while read -r group pkg rest; do
    [ -n "$group" ] || continue
    selected "$group" || continue
    case " ${GROUPS_RUN[*]} " in *" $group "*) ;; *) GROUPS_RUN+=("$group") ;; esac
    # shellcheck disable=SC2086
    run "$group" "$pkg" $rest
done <<<"$SUITE"
if selected R1 && [ ! -f "$R1_KILL" ]; then
    echo "R1 $R1_KILL absent in this tree: its replica kills were not run" >>"$CSE_RELIABILITY_FIGURES"
fi

echo
echo "Reliability suite ($mode form)"
printf '%-5s %7s %7s %7s %8s  %s\n' group tests passed failed seconds status
status=0
for group in "${GROUPS_RUN[@]}"; do
    verdict=ok
    if [ "${FAILED[$group]}" -gt 0 ] || [ -n "${BROKEN[$group]:-}" ]; then
        verdict="FAILED${BROKEN[$group]:+ (${BROKEN[$group]})}"
        status=1
    fi
    printf '%-5s %7s %7s %7s %8s  %s\n' "$group" "${TESTS[$group]}" "${PASSED[$group]}" \
        "${FAILED[$group]}" "${SECS[$group]}" "$verdict"
done
if [ -s "$CSE_RELIABILITY_FIGURES" ]; then
    echo
    echo "Figures"
    sort -s -k1,1 "$CSE_RELIABILITY_FIGURES" | sed 's/^/  /'
fi
exit $status
