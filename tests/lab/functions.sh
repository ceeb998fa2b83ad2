# SPDX-License-Identifier: Apache-2.0
# Helpers shared by the lab, the integration tests and the demo.
# Source this file; it defines functions only.

lab_log() { printf 'lab: %s\n' "$*" >&2; }
lab_die() { lab_log "$*"; exit 1; }

# requires CMD...: fail (not skip) when a tool the lab needs is missing.
# scripts/install-deps installs all of them; a missing one is a setup bug.
requires() {
  for _c in "$@"; do
    command -v "$_c" >/dev/null 2>&1 ||
      lab_die "required tool '$_c' is missing: run scripts/install-deps"
  done
}

# lab_free_port: print a TCP port on 127.0.0.1 that nothing listens on.
lab_free_port() {
  _used=$(ss -Htln 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
  for _i in $(seq 1 200); do
    _p=$(( (RANDOM << 8 ^ RANDOM) % 20000 + 30000 ))
    printf '%s\n' "$_used" | grep -qx "$_p" || { echo "$_p"; return 0; }
  done
  lab_die "no free port found on 127.0.0.1"
}

# lab_wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds.
lab_wait_for() {
  _t=$1; _what=$2; shift 2
  _end=$(( $(date +%s) + _t ))
  while ! "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$_end" ] || { lab_log "timed out after ${_t}s waiting for $_what"; return 1; }
    sleep 0.1
  done
}

# lab_alive PID: the process exists and has not exited.  A zombie counts
# as gone: daemons are reparented to PID 1, which may reap them late.
lab_alive() {
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
  _state=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$_state" != Z ]
}

# lab_stop_pid PID [NAME]: TERM, wait up to 10s, then KILL.  By PID only.
lab_stop_pid() {
  _pid=$1
  lab_alive "$_pid" || return 0
  kill -TERM "$_pid" 2>/dev/null || true
  for _i in $(seq 1 200); do
    lab_alive "$_pid" || return 0
    sleep 0.05
  done
  lab_log "${2:-process $_pid} did not stop on SIGTERM, killing it"
  kill -KILL "$_pid" 2>/dev/null || true
  for _i in $(seq 1 100); do
    lab_alive "$_pid" || return 0
    sleep 0.05
  done
}

# fingerprint_of PEM: lowercase hex SHA-256 of the certificate, no colons.
fingerprint_of() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 |
    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}

# --- test images ------------------------------------------------------------
# All images are deterministic, so tests can compare checksums.  SIZE may be
# any byte count, odd sizes included (1000003), or take nbdkit's suffixes
# (64M, 2G).

# lab_write_pattern FILE OFFSET LENGTH: write nbdkit's "pattern" content
# (each 8-byte big-endian word holds its own offset) at OFFSET.
lab_write_pattern() {
  nbdkit -U - --filter=offset pattern size=$(( $2 + $3 )) offset="$2" range="$3" \
    --run 'nbdcopy "$uri" -' |
    dd of="$1" bs=1M seek="$2" oflag=seek_bytes conv=notrunc iflag=fullblock status=none
}

# lab_mkimage_sparse FILE SIZE: all holes.
lab_mkimage_sparse() { rm -f "$1"; truncate -s "$2" "$1"; }

# lab_mkimage_pattern FILE SIZE: fully allocated pattern image.
lab_mkimage_pattern() {
  rm -f "$1"
  nbdkit -U - pattern size="$2" --run "nbdcopy \"\$uri\" '$1'"
}

# lab_mkimage_random FILE SIZE [PERCENT] [SEED]: sparse image where PERCENT
# of the blocks hold pseudo-random data (nbdkit sparse-random, seeded).
lab_mkimage_random() {
  rm -f "$1"; truncate -s "$2" "$1"
  nbdkit -U - sparse-random size="$2" percent="${3:-25}" seed="${4:-1}" \
    --run "nbdcopy \"\$uri\" '$1'"
}

# lab_mkvmdk DESCRIPTOR SIZE: a real monolithicFlat VMDK (DESCRIPTOR and
# DESCRIPTOR's "-flat.vmdk" sibling), written by qemu-img.
lab_mkvmdk() {
  rm -f "$1" "${1%.vmdk}-flat.vmdk"
  qemu-img create -q -f vmdk -o subformat=monolithicFlat "$1" "$2"
}

# lab_fill_disk FLAT SIZE LABEL: the lab's content of a VM disk: a label
# and 1 MiB of pattern at the start, 64 KiB of pattern at the end, holes
# in between.
lab_fill_disk() {
  lab_write_pattern "$1" 0 1048576
  printf '%-63s\n' "$3" | dd of="$1" conv=notrunc status=none
  lab_write_pattern "$1" $(( $2 - 65536 )) 65536
}
