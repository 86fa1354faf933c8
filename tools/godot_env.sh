# shellcheck shell=bash disable=SC2034
# Shared paths for the private Godot root (see shared/GODOT_CI.md section 2).
# Sourced by tools/godot, tools/monado-service and tools/install_godot.sh; defines
# variables and functions only and exports nothing into the caller's environment.

PS_GODOT_ROOT="${PLANETARY_GODOT_ROOT:-$HOME/.cache/planetary-survival/godot-root}"
# Relative to the root: written last by install_godot.sh, holds the Godot version.
PS_GODOT_MARKER_REL="planetary/godot-version"
PS_GODOT_LOADER="$PS_GODOT_ROOT/lib64/ld-linux-x86-64.so.2"
PS_GODOT_LIBS="$PS_GODOT_ROOT/usr/lib/x86_64-linux-gnu:$PS_GODOT_ROOT/lib/x86_64-linux-gnu:$PS_GODOT_ROOT/usr/lib/x86_64-linux-gnu/pulseaudio"
# Monado's tools also need these (the root's alternatives symlinks point at the host).
PS_MONADO_LIBS="$PS_GODOT_LIBS:$PS_GODOT_ROOT/usr/lib/x86_64-linux-gnu/lapack:$PS_GODOT_ROOT/usr/lib/x86_64-linux-gnu/blas:$PS_GODOT_ROOT/usr/lib"
PS_GODOT_VK_ICD="$PS_GODOT_ROOT/usr/share/vulkan/icd.d/lvp_icd.json"
PS_GODOT_XR_RUNTIME_JSON="$PS_GODOT_ROOT/planetary/openxr_monado.json"

# Exit with a clear message unless the root is installed and has binary $1.
ps_godot_require_root() {
    local bin="$1" tool="${2:-godot}"
    if [ -z "${PS_GODOT_SKIP_MARKER:-}" ] && [ ! -f "$PS_GODOT_ROOT/$PS_GODOT_MARKER_REL" ]; then
        printf 'tools/%s: the private Godot root is not installed at %s\n' "$tool" "$PS_GODOT_ROOT" >&2
        printf 'tools/%s: run tools/install_godot.sh (as root) first\n' "$tool" >&2
        exit 127
    fi
    if [ ! -x "$PS_GODOT_LOADER" ] || [ ! -x "$PS_GODOT_ROOT/$bin" ]; then
        printf 'tools/%s: %s or %s missing in %s; run tools/install_godot.sh\n' \
            "$tool" "$PS_GODOT_LOADER" "$bin" "$PS_GODOT_ROOT" >&2
        exit 127
    fi
}

# Graphics environment pointing into the root, as VAR=VALUE words for env(1).
ps_godot_graphics_env() {
    printf '%s\n' \
        "LIBGL_DRIVERS_PATH=$PS_GODOT_ROOT/usr/lib/x86_64-linux-gnu/dri" \
        "__EGL_VENDOR_LIBRARY_DIRS=$PS_GODOT_ROOT/usr/share/glvnd/egl_vendor.d" \
        "VK_ICD_FILENAMES=$PS_GODOT_VK_ICD"
}
