# shellcheck shell=bash disable=SC2034  # variables used by the scripts that source this
# Shared by the scripts in cross/ (sourced, not run). Maps short target names to Rust triples,
# Debian architectures and toolchain packages, and runs privileged steps as root or via sudo.

CROSS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$CROSS_DIR/.." && pwd)"
CROSS_CONFIG="$CROSS_DIR/config.toml"
# The cargo-deb release the .debs are built with (changing it changes the maintainer scripts).
CARGO_DEB_VERSION="3.8.0"

# triple SHORT -> Rust target triple
triple() {
    case "$1" in
        aarch64 | arm64 | aarch64-unknown-linux-gnu) echo aarch64-unknown-linux-gnu ;;
        armv7 | armhf | armv7-unknown-linux-gnueabihf) echo armv7-unknown-linux-gnueabihf ;;
        x86_64 | amd64 | x86_64-unknown-linux-gnu) echo x86_64-unknown-linux-gnu ;;
        *) echo "unknown target '$1' (aarch64, armv7 or x86_64)" >&2; return 1 ;;
    esac
}

# deb_arch TRIPLE -> Debian architecture
deb_arch() {
    case "$1" in
        aarch64-*) echo arm64 ;;
        armv7-*) echo armhf ;;
        x86_64-*) echo amd64 ;;
    esac
}

# gnu_prefix TRIPLE -> the Debian cross toolchain prefix (empty for the native target)
gnu_prefix() {
    case "$1" in
        aarch64-*) echo aarch64-linux-gnu ;;
        armv7-*) echo arm-linux-gnueabihf ;;
        *) echo "" ;;
    esac
}

# qemu_name TRIPLE -> qemu-user program suffix (qemu-aarch64, qemu-arm)
qemu_name() {
    case "$1" in
        aarch64-*) echo aarch64 ;;
        armv7-*) echo arm ;;
    esac
}

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "need root for: $*" >&2
        return 1
    fi
}

APT_UPDATED=""
# apt_install PKG...: installs the packages that are not installed yet.
apt_install() {
    local missing=()
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ "${#missing[@]}" = 0 ] && return 0
    echo "cross: installing ${missing[*]}" >&2
    if [ -z "$APT_UPDATED" ]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

cargo_cross() {
    cargo --config "$CROSS_CONFIG" "$@"
}

# Prints seconds since the epoch; elapsed STARTED prints "Ns".
now_s() { date +%s; }
elapsed() { echo "$(( $(now_s) - $1 ))s"; }
