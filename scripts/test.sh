#!/usr/bin/env bash
# The CountyOS test command (`make test`; `.ci/run` calls it on a clean clone).
#
# On a fresh Debian 12 machine, as root, it installs what the tests need and runs everything:
#   1. apt packages (only the missing ones): PostgreSQL 15 + PostGIS, Mosquitto, Chromium, CJK fonts,
#      and python3-venv / nodejs / npm when the machine has none
#   2. the Python virtualenv (.venv, `pip install -e '.[dev]'`), `npm ci`, scripts/vendor_assets.py
#   3. static checks: translation completeness, ruff (lint and format), mypy, import-linter
#   4. PostgreSQL 15 on 127.0.0.1 with a test role, a test database and a PostGIS template database;
#      a Mosquitto broker on 127.0.0.1:1883
#   5. pytest on SQLite and on PostgreSQL (browser tests excluded), then the browser tests (headless
#      Chromium through Playwright) on SQLite; when the machine has two cores or more the PostgreSQL
#      run goes on in the background beside the other two and its output is printed when it ends
# It is idempotent: what is already installed or running is reused. Every step runs even when an
# earlier check failed; the summary at the end lists each step and the exit code is non-zero when
# any step failed. Extra arguments are passed to every pytest run (e.g. `scripts/test.sh -k backup`).
#
# Environment knobs (all optional):
#   COUNTYOS_SCALE              size of the slow scale tests (default here: ci)
#   COUNTYOS_TEST_PG_PORT       PostgreSQL port (default: the port of cluster 15/main)
#   COUNTYOS_TEST_PG_DB         keep using this test database instead of a new one per run
#   PYTEST_TIMEOUT_MIN          wall-clock limit of each pytest run in minutes (default 45); a test
#                               running longer than 5 minutes prints every thread's stack (faulthandler)
#   COUNTYOS_TEST_SERIAL=1      run the SQLite and PostgreSQL suites one after the other
#   SUITE_BUDGET_MIN            the whole run should stay under this many minutes (default 25); the
#                               summary warns when it did not (each pytest run prints its time and
#                               its 15 slowest tests)

set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PG_VERSION=15
PG_CLUSTER=main
PG_ROLE=countyos
PG_PASSWORD=countyos
# Each run gets its own database (cloned from the template, dropped at the end), so that two runs
# on one machine never clean up each other's tables.
PG_DB="${COUNTYOS_TEST_PG_DB:-countyos_run_$$}"
PG_TEMPLATE=countyos_template
MQTT_PORT=1883
ARTIFACTS="$ROOT/test-artifacts"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
PYTEST_TIMEOUT_MIN="${PYTEST_TIMEOUT_MIN:-45}"
SUITE_BUDGET_MIN="${SUITE_BUDGET_MIN:-25}"
export COUNTYOS_SCALE="${COUNTYOS_SCALE:-ci}"
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PYTHONDONTWRITEBYTECODE=1

STARTED=$(date +%s)
STEP_NAMES=()
STEP_RESULTS=()
STEP_TIMES=()
FAILED=0

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
warn() { printf '\033[33m%s\033[0m\n' "$*" >&2; }

# run_step NAME COMMAND...: run, time and record one step; never stops the script.
run_step() {
    local name=$1 t0 rc
    shift
    say "$name"
    t0=$(date +%s)
    "$@"
    rc=$?
    record_step "$name" "$(($(date +%s) - t0))" "$rc"
    return "$rc"
}

# record_step NAME SECONDS EXIT_CODE: keeps a step's result for the summary.
record_step() {
    STEP_NAMES+=("$1")
    STEP_TIMES+=("$2")
    if [ "$3" -eq 0 ]; then
        STEP_RESULTS+=("ok")
    else
        STEP_RESULTS+=("FAILED (exit $3)")
        FAILED=1
        warn "step failed: $1 (exit $3)"
    fi
}

summary() {
    local total=$(($(date +%s) - STARTED)) i
    printf '\n\033[1m==> Summary\033[0m\n'
    for i in "${!STEP_NAMES[@]}"; do
        printf '  %-46s %-18s %5ss\n' "${STEP_NAMES[$i]}" "${STEP_RESULTS[$i]}" "${STEP_TIMES[$i]}"
    done
    if [ -n "${PYTEST_TOTALS:-}" ]; then
        printf '%b' "$PYTEST_TOTALS"
    fi
    printf '  total time: %dm%02ds\n' $((total / 60)) $((total % 60))
    if [ "$total" -gt $((SUITE_BUDGET_MIN * 60)) ]; then
        warn "  over the budget of ${SUITE_BUDGET_MIN} minutes: see the slowest tests of each pytest run above"
    fi
    if [ "$FAILED" -eq 0 ]; then
        printf '\033[32mALL PASSED\033[0m\n'
    else
        printf '\033[31mFAILED\033[0m (see the steps marked FAILED above)\n'
    fi
}

# Steps whose failure makes the rest meaningless stop the script here (with the summary).
require_step() {
    if ! run_step "$@"; then
        summary
        exit 1
    fi
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo -E "$@"
    else
        warn "need root (or sudo) for: $*"
        return 1
    fi
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres "$@"
    fi
}

pkg_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = "installed" ]
}

# ---------------------------------------------------------------------------------------------
# 1. apt
# ---------------------------------------------------------------------------------------------
apt_packages() {
    local wanted=(postgresql-$PG_VERSION postgresql-$PG_VERSION-postgis-3 mosquitto mosquitto-clients
        chromium fonts-noto-cjk poppler-utils libpango-1.0-0 libpangoft2-1.0-0) missing=() p
    for p in "${wanted[@]}"; do
        pkg_installed "$p" || missing+=("$p")
    done
    # A Python >= 3.11 able to make a virtualenv, and Node.js for the front-end libraries.
    if [ ! -x "$PY" ]; then
        if ! command -v python3 >/dev/null; then
            missing+=(python3 python3-venv)
        elif ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
            missing+=(python3-venv)
        fi
    fi
    command -v npm >/dev/null || missing+=(nodejs npm)
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "apt packages already installed"
        return 0
    fi
    echo "installing: ${missing[*]}"
    as_root apt-get update -q || return 1
    as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------------------------
# 2. Python, npm, vendored assets
# ---------------------------------------------------------------------------------------------
python_env() {
    if [ ! -x "$PY" ]; then
        python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
            warn "CountyOS needs Python >= 3.11; python3 is $(python3 --version 2>&1)"
            return 1
        }
        python3 -m venv "$VENV" || return 1
    fi
    # Reinstall only when pyproject.toml changed since the last successful install.
    local stamp="$VENV/.countyos-install" want
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$PY" -c 'import countyos' 2>/dev/null; then
        echo "virtualenv up to date ($("$PY" --version))"
        return 0
    fi
    "$PY" -m pip install -q --upgrade pip || return 1
    "$PY" -m pip install -q -e '.[dev]' || return 1
    echo "$want" >"$stamp"
}

npm_env() {
    local stamp="node_modules/.countyos-install" want
    want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        echo "node_modules up to date"
        return 0
    fi
    npm ci --no-audit --no-fund || return 1
    echo "$want" >"$stamp"
}

# ---------------------------------------------------------------------------------------------
# 4. Services: PostgreSQL + PostGIS, Mosquitto
# ---------------------------------------------------------------------------------------------
pg_field() { # pg_field N -> column N of `pg_lsclusters` for our cluster
    pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" -v n="$1" '$1 == v && $2 == c {print $n}'
}

pg_sql() { # pg_sql DB SQL -> run as the superuser over the local socket
    PGOPTIONS="--client-min-messages=warning" as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d "$1" -tAc "$2"
}

# The template the tests clone new databases from: PostGIS, nothing else. Owned by the superuser and
# closed to connections, so tests can clone it but not change it; rebuilt when it is not as expected.
pg_template() {
    local healthy
    healthy=$(pg_sql "$PG_TEMPLATE" "SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = 'public') = 1
        AND (SELECT count(*) FROM pg_extension WHERE extname = 'postgis') = 1
        AND (SELECT datdba FROM pg_database WHERE datname = current_database())
            = (SELECT oid FROM pg_roles WHERE rolname = current_user)
        AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e'))" 2>/dev/null)
    if [ "$healthy" = "t" ]; then
        return 0
    fi
    if [ -n "$(pg_sql postgres "SELECT 1 FROM pg_database WHERE datname = '$PG_TEMPLATE'")" ]; then
        echo "rebuilding the template database $PG_TEMPLATE"
        pg_sql postgres "ALTER DATABASE $PG_TEMPLATE IS_TEMPLATE false" || return 1
        pg_sql postgres "DROP DATABASE $PG_TEMPLATE WITH (FORCE)" || return 1
    fi
    pg_sql postgres "CREATE DATABASE $PG_TEMPLATE" || return 1
    pg_sql "$PG_TEMPLATE" "CREATE EXTENSION IF NOT EXISTS postgis" || return 1
    pg_sql postgres "ALTER DATABASE $PG_TEMPLATE IS_TEMPLATE true" || return 1
    pg_sql postgres "REVOKE CONNECT ON DATABASE $PG_TEMPLATE FROM PUBLIC" || return 1
}

# Databases of earlier runs that were killed before they could drop theirs.
drop_stale_run_databases() {
    local name pid
    for name in $(pg_sql postgres "SELECT datname FROM pg_database WHERE datname ~ '^countyos_run_[0-9]+$'"); do
        pid=${name#countyos_run_}
        if [ "$pid" != "$$" ] && ! kill -0 "$pid" 2>/dev/null; then
            pg_sql postgres "DROP DATABASE IF EXISTS $name WITH (FORCE)" || true
        fi
    done
}

DROP_PG_DB=0
drop_run_database() {
    if [ "$DROP_PG_DB" -eq 1 ]; then
        pg_sql postgres "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" || true
    fi
}

postgres_up() {
    if [ -z "$(pg_field 1)" ]; then
        as_root pg_createcluster "$PG_VERSION" "$PG_CLUSTER" || return 1
    fi
    if [ "$(pg_field 4)" != "online" ]; then
        as_root pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start || return 1
    fi
    PG_PORT="${COUNTYOS_TEST_PG_PORT:-$(pg_field 3)}"
    local i
    for i in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
        sleep 1
    done
    pg_isready -h 127.0.0.1 -p "$PG_PORT" || return 1

    # The test role is an ordinary role (like a county's application role): it owns its database
    # and may create databases, but PostGIS is created by the superuser.
    pg_sql postgres "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_ROLE') THEN
            CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
        ELSE
            ALTER ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
        END IF; END \$\$;" || return 1
    # Fault tests end other sessions of the test role (pg_terminate_backend); no superuser needed.
    pg_sql postgres "GRANT pg_signal_backend TO $PG_ROLE" >/dev/null || return 1
    pg_template || return 1
    drop_stale_run_databases
    if [ -z "$(pg_sql postgres "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]; then
        pg_sql postgres "CREATE DATABASE $PG_DB OWNER $PG_ROLE TEMPLATE $PG_TEMPLATE" || return 1
    fi
    case "$PG_DB" in countyos_run_*) DROP_PG_DB=1 ;; esac
    pg_sql "$PG_DB" "CREATE SCHEMA IF NOT EXISTS public AUTHORIZATION pg_database_owner" || return 1
    pg_sql "$PG_DB" "CREATE EXTENSION IF NOT EXISTS postgis" || return 1
    export COUNTYOS_TEST_PG_TEMPLATE="$PG_TEMPLATE"
    PG_URL="postgresql+psycopg://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
    echo "PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT: $(pg_sql "$PG_DB" "SELECT 'PostGIS ' || postgis_lib_version()")"
    echo "test database: postgresql+psycopg://$PG_ROLE:***@127.0.0.1:$PG_PORT/$PG_DB (template $PG_TEMPLATE)"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

mosquitto_up() {
    if ! port_open "$MQTT_PORT"; then
        local dir=/tmp/countyos-test-mosquitto
        mkdir -p "$dir"
        cat >"$dir/mosquitto.conf" <<EOF
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence false
pid_file $dir/mosquitto.pid
log_dest file $dir/mosquitto.log
EOF
        # The broker drops root for the user `mosquitto`, which must be able to write its files.
        if [ "$(id -u)" -eq 0 ] && id mosquitto >/dev/null 2>&1; then chown -R mosquitto "$dir"; fi
        mosquitto -c "$dir/mosquitto.conf" -d || return 1
        local i
        for i in $(seq 1 20); do port_open "$MQTT_PORT" && break; sleep 0.25; done
    fi
    timeout 5 mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t countyos/test/ping -m ping || return 1
    export COUNTYOS_TEST_MQTT_URL="mqtt://127.0.0.1:$MQTT_PORT"
    echo "Mosquitto on 127.0.0.1:$MQTT_PORT"
}

# ---------------------------------------------------------------------------------------------
# 5. pytest
# ---------------------------------------------------------------------------------------------
PYTEST_TOTALS=""

# pytest_took LABEL SECONDS: prints the run's time and keeps its totals line for the summary.
pytest_took() {
    local label=$1 took=$2 log="$ARTIFACTS/pytest-$1.log"
    printf '==> pytest %s took %dm%02ds\n' "$label" $((took / 60)) $((took % 60))
    PYTEST_TOTALS+="  pytest $label ($((took / 60))m$(printf '%02d' $((took % 60)))s): $(grep -E '(passed|failed|errors?|skipped|deselected|no tests ran).* in [0-9.]+s' "$log" | tail -1 | sed -E 's/^=+ //; s/ =+$//')\n"
}

# start_background_pytest LABEL [env(1) arguments] -- PYTEST ARGS...: run_pytest in the background
# (its output only in $ARTIFACTS/pytest-LABEL.log until finish_background_pytest prints it).
start_background_pytest() {
    BG_LABEL=$1
    BG_T0=$(date +%s)
    (run_pytest "$@" >/dev/null 2>&1) &
    BG_PID=$!
}

# finish_background_pytest STEP_NAME: waits for it, prints its output and records it as a step.
finish_background_pytest() {
    local name=$1 rc took
    wait "$BG_PID"
    rc=$?
    took=$(($(date +%s) - BG_T0))
    say "$name"
    cat "$ARTIFACTS/pytest-$BG_LABEL.log"
    pytest_took "$BG_LABEL" "$took"
    record_step "$name" "$took" "$rc"
}

# run_pytest LABEL [env(1) arguments: NAME=VALUE, -u NAME...] -- PYTEST ARGS...
# Prints the slowest tests and the run's wall-clock time (also kept for the summary).
run_pytest() {
    local label=$1 envs=() rc log t0 took
    shift
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    log="$ARTIFACTS/pytest-$label.log"
    t0=$(date +%s)
    env "${envs[@]}" timeout --signal=INT --kill-after=60 "${PYTEST_TIMEOUT_MIN}m" \
        "$PY" -m pytest -p no:cacheprovider -o faulthandler_timeout=300 --junitxml="$ARTIFACTS/junit-$label.xml" \
        --durations=15 "$@" "${PYTEST_ARGS[@]}" \
        2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    took=$(($(date +%s) - t0))
    pytest_took "$label" "$took"
    case "$rc" in
        0) return 0 ;;
        5) warn "pytest $label collected no tests"; return 5 ;;
        124) warn "pytest $label exceeded ${PYTEST_TIMEOUT_MIN} minutes"; return 124 ;;
        *) return "$rc" ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# main is one function, read whole before it runs: editing this file during a run cannot derail it.
main() {
    PYTEST_ARGS=("$@")
    mkdir -p "$ARTIFACTS"

    require_step "apt packages" apt_packages
    require_step "python virtualenv (.venv)" python_env
    require_step "npm ci" npm_env
    require_step "vendor assets (scripts/vendor_assets.py)" "$PY" scripts/vendor_assets.py

    export PATH="$VENV/bin:$PATH"
    run_step "translations (scripts/i18n.py check)" "$PY" scripts/i18n.py check
    run_step "ruff check" ruff check src tests bench scripts
    run_step "ruff format" ruff format --check src tests bench scripts
    run_step "mypy" mypy
    run_step "import-linter" lint-imports

    PG_OK=1
    run_step "PostgreSQL $PG_VERSION + PostGIS on 127.0.0.1" postgres_up || PG_OK=0
    run_step "Mosquitto on 127.0.0.1:$MQTT_PORT" mosquitto_up

    if [ "$PG_OK" -eq 1 ] && [ "$(nproc)" -ge 2 ] && [ "${COUNTYOS_TEST_SERIAL:-0}" != 1 ]; then
        # Side by side: each run is one Python process; the two backends share nothing but the machine.
        # The PostgreSQL run is the longest, so the browser tests start when the SQLite run ends.
        # what does not depend on the backend (backend_neutral) runs in the PostgreSQL run only: the SQLite run
        # has the browser tests after it
        start_background_pytest postgresql "COUNTYOS_TEST_DATABASE_URL=$PG_URL" COUNTYOS_TEST_NEUTRAL_IN=postgresql \
            -- -m "not browser"
        run_step "pytest on SQLite" run_pytest sqlite -u COUNTYOS_TEST_DATABASE_URL COUNTYOS_TEST_NEUTRAL_IN=postgresql \
            -- -m "not browser"
        run_step "pytest browser (Chromium, SQLite)" run_pytest browser -u COUNTYOS_TEST_DATABASE_URL -- -m browser
        finish_background_pytest "pytest on PostgreSQL (alongside SQLite and the browser)"
    else
        run_step "pytest on SQLite" run_pytest sqlite -u COUNTYOS_TEST_DATABASE_URL -- -m "not browser"
        if [ "$PG_OK" -eq 1 ]; then
            run_step "pytest on PostgreSQL" run_pytest postgresql "COUNTYOS_TEST_DATABASE_URL=$PG_URL" -- -m "not browser"
        else
            STEP_NAMES+=("pytest on PostgreSQL"); STEP_RESULTS+=("FAILED (no server)"); STEP_TIMES+=(0); FAILED=1
        fi
        run_step "pytest browser (Chromium, SQLite)" run_pytest browser -u COUNTYOS_TEST_DATABASE_URL -- -m browser
    fi

    summary
    return "$FAILED"
}

stop_background() { if [ -n "${BG_PID:-}" ]; then kill "$BG_PID" 2>/dev/null; fi; return 0; }
trap 'stop_background; drop_run_database' EXIT
main "$@"; exit $?
