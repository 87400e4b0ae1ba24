#!/usr/bin/env bash
# Installs what building and testing Skein needs, idempotently: each step is skipped when its
# tool is already there at the right version. Works on a fresh machine that reaches only the
# package registries (crates.io, npm, PyPI, Debian). See shared/TOOLCHAIN.md for the why.
#
#   bash scripts/setup.sh            # everything
#   bash scripts/setup.sh venv       # only some steps (wasm, trunk, wasm-bindgen, wasm-split, wasm-opt,
#                                    #   chromium, clickhouse, venv, node)
#   source scripts/setup.sh          # only defines the functions and puts the tools on PATH
#
# Versions: Trunk 0.21.14 (0.22 needs a newer rustc); wasm-bindgen-cli = the wasm-bindgen in
# Cargo.lock (Trunk would otherwise try to download one); wasm-opt from npm binaryen@132
# (Debian's binaryen 108 corrupts wasm-bindgen output); wasm-split-cli 0.2.4 (the splitter of the
# wasm_split_helpers that Leptos's lazy routes use; scripts/build-wasm.sh runs it).

SKEIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION="0.21.14"
BINARYEN_VERSION="132"
WASM_SPLIT_VERSION="0.2.4"

# Tools first on PATH: the repo's npm tools, then cargo-installed ones.
skein_path() {
    case ":$PATH:" in
        *":$SKEIN_ROOT/.tools/node_modules/.bin:"*) ;;
        *) PATH="$SKEIN_ROOT/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH" ;;
    esac
    export PATH
}
skein_path

_log() { printf '[setup] %s\n' "$*" >&2; }

_as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# The wasm-bindgen version Cargo.lock pins (the CLI must match it exactly).
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' \
        "$SKEIN_ROOT/Cargo.lock"
}

setup_wasm() {
    local installed
    installed="$(rustup target list --installed 2>/dev/null || true)"
    if grep -qx wasm32-unknown-unknown <<<"$installed"; then
        _log "wasm32-unknown-unknown: present"
    else
        _log "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
}

setup_trunk() {
    if [ "$(trunk --version 2>/dev/null)" = "trunk $TRUNK_VERSION" ]; then
        _log "trunk $TRUNK_VERSION: present"
    else
        _log "installing trunk $TRUNK_VERSION (about 14 minutes on 2 cores)"
        cargo install --locked "trunk@$TRUNK_VERSION"
    fi
}

setup_wasm_bindgen() {
    local want
    want="$(wasm_bindgen_version)"
    if [ -z "$want" ]; then
        _log "no wasm-bindgen in Cargo.lock"
        return 1
    fi
    if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $want" ]; then
        _log "wasm-bindgen-cli $want: present"
    else
        # Without --locked: its own lockfile pins a crate version the registry lacks.
        _log "installing wasm-bindgen-cli $want (about 8 minutes)"
        cargo install wasm-bindgen-cli --version "$want"
    fi
}

setup_wasm_split() {
    if cargo install --list 2>/dev/null | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:" \
        && command -v wasm-split-cli >/dev/null; then
        _log "wasm-split-cli $WASM_SPLIT_VERSION: present"
    else
        _log "installing wasm-split-cli $WASM_SPLIT_VERSION (about 3 minutes)"
        cargo install --locked "wasm_split_cli_support@$WASM_SPLIT_VERSION" --features build-binary
    fi
}

setup_wasm_opt() {
    local version
    version="$(wasm-opt --version 2>/dev/null || true)"
    if [[ "$version" == *"version_$BINARYEN_VERSION"* ]]; then
        _log "wasm-opt version_$BINARYEN_VERSION: present"
    else
        _log "installing wasm-opt (npm binaryen@$BINARYEN_VERSION) into .tools/"
        mkdir -p "$SKEIN_ROOT/.tools"
        npm install --prefix "$SKEIN_ROOT/.tools" --no-audit --no-fund --loglevel=error \
            "binaryen@$BINARYEN_VERSION"
    fi
}

setup_chromium() {
    if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
        _log "chromium and chromedriver: present"
    else
        _log "installing Debian's chromium and chromium-driver"
        _as_root apt-get update
        DEBIAN_FRONTEND=noninteractive _as_root apt-get install -y --no-install-recommends \
            chromium chromium-driver
    fi
}

# Debian's ClickHouse server (18.16 on bookworm) and ZooKeeper: the ClickHouse engine's tests
# start their own servers from temporary configs on free loopback ports (never the packages'
# services, which are not started here).
setup_clickhouse() {
    if [ -x /usr/sbin/clickhouse-server ] && [ -f /usr/share/java/zookeeper.jar ]; then
        _log "clickhouse-server and zookeeper: present"
    else
        _log "installing Debian's clickhouse-server, clickhouse-client and zookeeper"
        _as_root apt-get update
        DEBIAN_FRONTEND=noninteractive _as_root apt-get install -y --no-install-recommends \
            clickhouse-server clickhouse-client zookeeper
    fi
}

# A venv with the client SDKs the collector's tests drive, pinned in one place.
PY_REQUIREMENTS="$SKEIN_ROOT/crates/collector/tests/python/requirements.txt"
setup_venv() {
    local venv="$SKEIN_ROOT/.venv"
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" - "$PY_REQUIREMENTS" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
pins = [l.split("==") for l in open(sys.argv[1]) if "==" in l and not l.startswith("#")]
sys.exit(0 if all(version(n.strip()) == v.strip() for n, v in pins) else 1)
PY
    then
        _log "python venv with the pinned test SDKs: present"
    else
        _log "installing the pinned test SDKs into .venv"
        [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$PY_REQUIREMENTS"
    fi
}

# The Node clients the collector's tests drive (OpenTelemetry JS's gRPC exporter), pinned by
# their package-lock.json and installed with `npm ci`; redone only when the lock changes.
NODE_CLIENTS="$SKEIN_ROOT/crates/collector/tests/node"
setup_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        _log "installing Debian's nodejs and npm"
        _as_root apt-get update
        DEBIAN_FRONTEND=noninteractive _as_root apt-get install -y --no-install-recommends nodejs npm
    fi
    local stamp="$NODE_CLIENTS/node_modules/.skein-lock.sha256" want
    want="$(sha256sum "$NODE_CLIENTS/package-lock.json" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        _log "node test clients: present"
    else
        _log "installing the pinned node test clients (npm ci)"
        (cd "$NODE_CLIENTS" && npm ci --no-audit --no-fund --loglevel=error)
        echo "$want" >"$stamp"
    fi
}

setup_all() {
    setup_wasm
    setup_trunk
    setup_wasm_bindgen
    setup_wasm_split
    setup_wasm_opt
    setup_chromium
    setup_clickhouse
    setup_venv
    setup_node
}

# Run only when executed, not when sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    if [ $# -eq 0 ]; then
        setup_all
    else
        for step in "$@"; do
            case "$step" in
                wasm) setup_wasm ;;
                trunk) setup_trunk ;;
                wasm-bindgen) setup_wasm_bindgen ;;
                wasm-split) setup_wasm_split ;;
                wasm-opt) setup_wasm_opt ;;
                chromium) setup_chromium ;;
                clickhouse) setup_clickhouse ;;
                venv) setup_venv ;;
                node) setup_node ;;
                *) _log "unknown step: $step"; exit 2 ;;
            esac
        done
    fi
    _log "done"
fi
