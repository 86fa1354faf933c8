#!/usr/bin/env bash
# Install the project's private Godot root (Debian sid chroot) outside the repository.
#
# See shared/GODOT_CI.md sections 1, 4 and 5. Idempotent: if the root is already
# installed and `tools/godot --headless --version` works, this prints the version and
# exits 0 quickly.
#
# Environment:
#   PLANETARY_GODOT_ROOT    where the root lives
#                           (default: $HOME/.cache/planetary-survival/godot-root)
#   PLANETARY_DEBIAN_MIRROR Debian mirror for debootstrap (default: http://deb.debian.org/debian)
#   XDG_DATA_HOME           export templates go to $XDG_DATA_HOME/godot/export_templates
#                           (default: $HOME/.local/share)
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
source "$TOOLS_DIR/godot_env.sh"

ROOT="$PS_GODOT_ROOT"
MIRROR="${PLANETARY_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=sid
HOST_PACKAGES=(debootstrap xvfb xauth patchelf)
ROOT_PACKAGES=(godot-template-release libgl1 libegl1 libgl1-mesa-dri mesa-vulkan-drivers
    libvulkan1 monado-service libopenxr1-monado libopenxr-loader1)

log() { printf 'install_godot: %s\n' "$*" >&2; }
die() { printf 'install_godot: ERROR: %s\n' "$*" >&2; exit 1; }

# --- fast path -----------------------------------------------------------------------

host_tools_present() {
    command -v debootstrap >/dev/null 2>&1 && command -v xvfb-run >/dev/null 2>&1 \
        && command -v xauth >/dev/null 2>&1 && command -v patchelf >/dev/null 2>&1
}

# Prints the version of the installed root and returns 0 if it works.
root_works() {
    [ -f "$ROOT/$PS_GODOT_MARKER_REL" ] || return 1
    local out
    out="$(timeout 60 "$TOOLS_DIR/godot" --headless --version 2>/dev/null | tail -n 1)" || return 1
    [[ "$out" =~ ^[0-9]+\.[0-9]+ ]] || return 1
    printf '%s\n' "$out"
}

# Template directory name: "4.6.3.stable.debian" -> "4.6.3.stable".
template_version() {
    local v="$1"
    if [[ "$v" =~ ^([0-9]+\.[0-9]+(\.[0-9]+)?\.[A-Za-z0-9]+) ]]; then
        printf '%s\n' "${BASH_REMATCH[1]}"
    else
        return 1
    fi
}

install_export_template() {
    local version="$1" tv dest_dir src
    tv="$(template_version "$version")" || die "cannot parse Godot version '$version'"
    src="$ROOT/usr/bin/godot-template-release"
    [ -f "$src" ] || die "export template missing in the root: $src"
    dest_dir="${XDG_DATA_HOME:-$HOME/.local/share}/godot/export_templates/$tv"
    if [ -f "$dest_dir/linux_release.x86_64" ] && cmp -s "$src" "$dest_dir/linux_release.x86_64"; then
        return 0
    fi
    mkdir -p "$dest_dir"
    cp "$src" "$dest_dir/.linux_release.x86_64.tmp.$$"
    chmod 0755 "$dest_dir/.linux_release.x86_64.tmp.$$"
    mv -f "$dest_dir/.linux_release.x86_64.tmp.$$" "$dest_dir/linux_release.x86_64"
    log "export template installed: $dest_dir/linux_release.x86_64"
}

# Unmount anything left mounted below $1 (an interrupted debootstrap can leave /proc or
# bind mounts), then delete it without crossing file systems.
safe_remove_tree() {
    local dir="$1" mp
    if [ -z "$dir" ] || [ "$dir" = "/" ]; then
        die "refusing to remove '$dir'"
    fi
    [ -e "$dir" ] || return 0
    dir="$(cd "$dir" && pwd -P)"
    # Deepest mount points first.
    while read -r mp; do
        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
    done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
    if awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
        die "cannot unmount everything below $dir; remove it by hand"
    fi
    rm -rf --one-file-system "$dir"
}

TMP=""
# EXIT trap while building: remove the unfinished root.
# shellcheck disable=SC2317  # called through trap
cleanup() {
    if [ -n "$TMP" ]; then
        safe_remove_tree "$TMP" || true
    fi
}

main() {
    # --- preconditions ---------------------------------------------------------------------

    if version="$(root_works)" && host_tools_present; then
        install_export_template "$version"
        echo "Godot $version (root: $ROOT)"
        exit 0
    fi

    [ "$(id -u)" -eq 0 ] || die "must run as root (needs apt-get, debootstrap and chroot); root '$ROOT' is not installed"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this installer needs a Debian-based host"
    command -v flock >/dev/null 2>&1 || die "flock (util-linux) not found"

    mkdir -p "$(dirname "$ROOT")"
    LOCK="$ROOT.lock"
    exec 9>"$LOCK"
    if ! flock -n 9; then
        log "another install is running (lock $LOCK); waiting for it"
        flock 9
    fi

    # Someone else may have finished the install while we waited.
    if version="$(root_works)" && host_tools_present; then
        install_export_template "$version"
        echo "Godot $version (root: $ROOT)"
        exit 0
    fi

    export DEBIAN_FRONTEND=noninteractive

    # --- host packages ----------------------------------------------------------------------

    if ! host_tools_present; then
        log "installing host packages: ${HOST_PACKAGES[*]}"
        if ! apt-get install -y "${HOST_PACKAGES[@]}" >/dev/null 2>&1; then
            log "apt-get install failed; running apt-get update first"
            apt-get update >&2 || die "apt-get update failed (no network or no Debian mirror reachable?)"
            apt-get install -y "${HOST_PACKAGES[@]}" >&2 \
                || die "apt-get install ${HOST_PACKAGES[*]} failed"
        fi
    fi
    host_tools_present || die "host tools still missing after apt-get install"

    # --- build the root in a temporary directory --------------------------------------------

    START=$SECONDS
    # Leftovers of interrupted runs (we hold the lock, so nobody else is building).
    for old in "$ROOT".tmp.* "$ROOT".old.*; do
        [ -e "$old" ] || continue
        log "removing leftover $old"
        safe_remove_tree "$old"
    done

    TMP="$ROOT.tmp.$$"
    trap cleanup EXIT
    trap 'exit 130' INT TERM

    log "debootstrap $SUITE into $TMP (mirror $MIRROR)"
    if ! debootstrap --variant=minbase --include=godot "$SUITE" "$TMP" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1; then
        tail -n 30 "$ROOT.debootstrap.log" >&2 || true
        die "debootstrap failed (network? mirror $MIRROR); full log: $ROOT.debootstrap.log"
    fi

    # Keep package scripts from starting services inside the chroot.
    printf '#!/bin/sh\nexit 101\n' >"$TMP/usr/sbin/policy-rc.d"
    chmod 0755 "$TMP/usr/sbin/policy-rc.d"

    in_root() { chroot "$TMP" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root "$@"; }

    log "installing into the root: ${ROOT_PACKAGES[*]}"
    if ! in_root apt-get install -y --no-install-recommends "${ROOT_PACKAGES[@]}" >"$ROOT.apt.log" 2>&1; then
        log "apt-get install in the root failed; retrying after apt-get update"
        in_root apt-get update >>"$ROOT.apt.log" 2>&1 || true
        if ! in_root apt-get install -y --no-install-recommends "${ROOT_PACKAGES[@]}" >>"$ROOT.apt.log" 2>&1; then
            tail -n 30 "$ROOT.apt.log" >&2 || true
            die "apt-get install inside the root failed; full log: $ROOT.apt.log"
        fi
    fi
    in_root apt-get clean >/dev/null 2>&1 || true
    rm -f "$TMP/usr/sbin/policy-rc.d"

    # --- project files inside the root ------------------------------------------------------

    mkdir -p "$TMP/planetary"
    # Monado runtime manifest with an absolute library path (GODOT_CI.md section 4). The path
    # names the final location, not $TMP.
    MANIFEST_SRC="$TMP/usr/share/openxr/1/openxr_monado.json"
    [ -f "$MANIFEST_SRC" ] || die "Monado runtime manifest missing: $MANIFEST_SRC"
    python3 - "$MANIFEST_SRC" "$TMP/${PS_GODOT_XR_RUNTIME_JSON#"$ROOT/"}" \
        "$ROOT/usr/lib/x86_64-linux-gnu/libopenxr_monado.so" <<'PY' || die "cannot write the runtime manifest"
import json, sys
src, dst, lib = sys.argv[1:4]
with open(src) as f:
    data = json.load(f)
data["runtime"]["library_path"] = lib
with open(dst, "w") as f:
    json.dump(data, f, indent=4)
    f.write("\n")
PY

    # Check the new root before it replaces anything.
    version="$(PLANETARY_GODOT_ROOT="$TMP" PS_GODOT_SKIP_MARKER=1 timeout 120 "$TOOLS_DIR/godot" --headless --version 2>/dev/null | tail -n 1)" \
        || die "the new root's Godot does not start"
    [[ "$version" =~ ^[0-9]+\.[0-9]+ ]] || die "unexpected Godot version output: '$version'"
    printf '%s\n' "$version" >"$TMP/$PS_GODOT_MARKER_REL"

    # --- move into place atomically ---------------------------------------------------------

    if [ -e "$ROOT" ]; then
        log "replacing the broken or incomplete root at $ROOT"
        mv "$ROOT" "$ROOT.old.$$"
    fi
    mv "$TMP" "$ROOT"
    trap - EXIT
    if [ -e "$ROOT.old.$$" ]; then
        safe_remove_tree "$ROOT.old.$$"
    fi

    install_export_template "$version"
    log "done in $((SECONDS - START)) s; root size $(du -sh --one-file-system "$ROOT" | cut -f1)"
    echo "Godot $version (root: $ROOT)"
}

# Everything runs from main, and this last line is read whole before it runs, so editing or
# updating this script while an install runs cannot corrupt that run.
main "$@"; exit
