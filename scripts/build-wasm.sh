#!/usr/bin/env bash
# Trunk's post_build hook (Trunk.toml): builds the dashboard's wasm, split into lazily loaded
# chunks, into the staged dist.
#
# Each page of the dashboard is a lazy route (src/app.rs): its code is a separate wasm chunk
# that the browser fetches when the page is first opened, so a page downloads the shared
# runtime plus its own code, not the whole app. Trunk 0.21 cannot split wasm
# (trunk-rs/trunk#1022), so this hook does the steps its Rust pipeline would, with the split
# in between:
#   cargo build (linked with --emit-relocs, .cargo/config.toml)
#   -> wasm-split-cli (the main module, one module per lazy route, shared chunks, a JS loader)
#   -> wasm-bindgen on the main module (--keep-lld-exports: the chunks import its table and memory)
#   -> wasm-opt -Oz on every module (release only)
#   -> scripts/merge-chunks.py: wasm-split's hundreds of small shared chunks merged into a few
#      dozen (wasm-merge), where that saves a page more than the code it loads without needing
# The files go to pkg-<content hash>/ (a new name whenever the code changes, so no stale cache),
# and index.html's __SKEIN_PKG__ placeholder becomes that directory's URL.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
staging="${TRUNK_STAGING_DIR:?run by Trunk as a post_build hook (scripts/build-dashboard.sh)}"
# shellcheck source=setup.sh
source "$root/scripts/setup.sh"
for tool in wasm-split-cli wasm-bindgen wasm-opt wasm-merge python3; do
    command -v "$tool" >/dev/null || { echo "$tool not found: run scripts/setup.sh" >&2; exit 1; }
done

if [ "${TRUNK_PROFILE:-debug}" = release ]; then
    cargo_profile=wasm-release
    profile_dir=wasm-release
else
    cargo_profile=dev
    profile_dir=debug
fi
target_dir="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"
cargo build --target wasm32-unknown-unknown --profile "$cargo_profile" --bin skein-dashboard
linked="$target_dir/wasm32-unknown-unknown/$profile_dir/skein-dashboard.wasm"

work="$target_dir/wasm-split/$profile_dir"
rm -rf "$work"
mkdir -p "$work/split" "$work/pkg"
wasm-split-cli "$linked" "$work/split" --target web --out-name skein-dashboard
wasm-bindgen --target web --keep-lld-exports --no-typescript \
    --out-dir "$work/pkg" --out-name skein-dashboard "$work/split/skein-dashboard.wasm"
rm "$work/split/skein-dashboard.wasm"
mv "$work/split/"* "$work/pkg/"
# The features rustc's wasm32 target enables: a merged module carries no target_features
# section, so binaryen is told them.
features=(--enable-sign-ext --enable-mutable-globals --enable-bulk-memory --enable-bulk-memory-opt
    --enable-call-indirect-overlong
    --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types)

if [ "$cargo_profile" = wasm-release ]; then
    # Two at a time (the machines have 2 cores), without the harmless warning wasm-opt prints
    # about a name subsection (types) that wasm-split writes and it does not know. The
    # target_features and producers sections are for tools, not browsers: ~200 bytes a module.
    printf '%s\0' "$work/pkg/"*.wasm | xargs -0 -P 2 -I {} bash -c 'set -o pipefail
        wasm-opt -Oz "${@:2}" --strip-target-features --strip-producers "$1" -o "$1" 2>&1 |
            { grep -v "unknown name subsection" || true; } >&2' _ {} "${features[@]}"
fi

# A copy of the modules before the merge, to try merge plans on without a rebuild
# (SKEIN_MERGE_DRY=1 python3 scripts/merge-chunks.py COPY ... prints a plan's page sizes).
if [ -n "${SKEIN_KEEP_UNMERGED:-}" ]; then
    rm -rf "$SKEIN_KEEP_UNMERGED"
    cp -r "$work/pkg" "$SKEIN_KEEP_UNMERGED"
fi
# Merged after wasm-opt: the plan weighs the modules' sizes as they are served. The split
# points named here are parts of a page, loaded after it (the rest are pages).
python3 "$root/scripts/merge-chunks.py" "$work/pkg" \
    span_body,filter_check,add_to_queue,pairwise_panel,score_configs,then_by_table,critical_list,trace_search,trace_live,download,trace_feedback,span_detail wasm-merge "${features[@]}"

# index.html compiles the opened page's modules beside the main module's.
python3 "$root/scripts/early-pages.py" "$work/pkg" "$root/src/app.rs" "$staging/index.html"

hash="$(cat "$work/pkg/"* | sha256sum | cut -c1-16)"
public_url="${TRUNK_PUBLIC_URL:-/}"
cp -r "$work/pkg" "$staging/pkg-$hash"
sed -i -e "s|__SKEIN_PKG__|${public_url%/}/pkg-$hash|g" -e '/data-trunk-skip/d' "$staging/index.html"
echo "dashboard wasm: $(ls "$work/pkg/"*.wasm | wc -l) modules in pkg-$hash/" >&2
