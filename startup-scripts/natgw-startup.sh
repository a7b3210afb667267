#!/bin/bash
# natgw NAT VM startup script. The guest environment runs it as root at every boot (output: journalctl -u
# google-startup-scripts.service). It installs what the agent needs, fetches the agent from instance metadata, refuses
# anything whose sha256 does not match, and runs it under a hardened systemd unit. It also installs itself as
# /opt/natgw/natgw-startup.sh: the unit runs `natgw-startup.sh update-agent` before every (re)start of the agent, so a
# bundle published later by `natgw provision` is installed when the agent exits to upgrade.
#
# The lab runs it unmodified too: its NAT VMs are Debian 13 guests under systemd with Google's guest environment.
#
# Environment (for tests; GCE and the lab set none of these):
#   NATGW_ROOT          prefix for every path this script writes (default: empty, i.e. the real /)
#   NATGW_METADATA_URL  metadata server base URL (default http://169.254.169.254/computeMetadata/v1)
#   NATGW_NODE_BIN      node binary (default /usr/bin/node, Debian's nodejs package)
#   NATGW_APT_LOCK_TIMEOUT_SECONDS, NATGW_APT_RETRY_DELAY_SECONDS  apt's dpkg-lock wait (300) and retry pause (5)
set -euo pipefail

NATGW_ROOT="${NATGW_ROOT:-}"
NATGW_METADATA_URL="${NATGW_METADATA_URL:-http://169.254.169.254/computeMetadata/v1}"
NATGW_NODE_BIN="${NATGW_NODE_BIN:-/usr/bin/node}"

readonly UNIT_NAME="natgw-agent.service"
readonly SYSCTL_UNIT="natgw-sysctl"
# The agent's own system user: it needs CAP_NET_ADMIN for netlink and /proc/sys/net, not root's files.
readonly AGENT_USER="natgw"
# The agent persists its sysctls here, in its state directory; install_sysctl_conf copies them into /etc/sysctl.d.
readonly AGENT_SYSCTL_FILE="/var/lib/natgw/sysctl.conf"
readonly SYSCTL_CONF="/etc/sysctl.d/99-natgw.conf"
# The only lines the agent's sysctl file may hold (agent/sysctl.ts): a file in /etc/sysctl.d is applied as root at
# boot, so anything else (kernel.core_pattern, …) would hand root to whoever controls the agent.
readonly SYSCTL_LINE_PATTERN='^(net\.ipv4\.ip_forward|net\.ipv4\.conf\.[A-Za-z0-9_-]+\.send_redirects|net/ipv4/conf/[A-Za-z0-9_.-]+/send_redirects|net\.netfilter\.nf_conntrack_[a-z_]+) = [0-9]+$'
readonly SYSCTL_MAX_BYTES=16384
readonly AGENT_DIR="/opt/natgw"
readonly AGENT_FILE="natgw-agent.mjs"
readonly SCRIPT_FILE="natgw-startup.sh"
# The agent's "restart me into the new bundle" exit code (agent/upgrade.ts).
readonly UPGRADE_EXIT_CODE=75
# Well under systemd's default TimeoutStartSec (90 s).
readonly UPDATE_TIMEOUT_SECONDS=45
# A 1 MB young generation instead of V8's 16 MB: the agent's garbage is short-lived lines of conntrack output, and
# the default let a 250k-entry table dump lift the peak RSS by ~25 MB (bench/findings.md).
readonly AGENT_NODE_FLAGS="--max-semi-space-size=1"
# Node reads child output in 64 KB buffers; from glibc's heap, a table dump's worth of them left ~8 MB of freed but
# resident memory behind. Served by mmap instead, they go back to the kernel when freed.
readonly AGENT_ENVIRONMENT="MALLOC_MMAP_THRESHOLD_=65536"
# apt on first boot: how long to wait for a dpkg lock someone else holds, and how often to try the index update.
readonly APT_LOCK_TIMEOUT_SECONDS="${NATGW_APT_LOCK_TIMEOUT_SECONDS:-300}"
readonly APT_UPDATE_ATTEMPTS=5
readonly APT_RETRY_DELAY_SECONDS="${NATGW_APT_RETRY_DELAY_SECONDS:-5}"
# Up to 40 chunks of 250 KB: far above the 512 KB metadata limit, so the loop always ends on a 404.
readonly MAX_CHUNKS=40

log() {
  printf 'natgw-startup: %s\n' "$*"
}

die() {
  printf 'natgw-startup: ERROR: %s\n' "$*" >&2
  exit 1
}

# Saves an instance attribute to FILE. Returns 0 when found, 3 when the attribute does not exist, 1 on other failures.
metadata_get() {
  local key="$1" out="$2" code
  code="$(curl --silent --show-error --retry 5 --retry-connrefused --retry-delay 1 --max-time 30 \
    --header 'Metadata-Flavor: Google' --output "${out}" --write-out '%{http_code}' \
    "${NATGW_METADATA_URL}/instance/attributes/${key}")" || return 1
  case "${code}" in
    200) return 0 ;;
    404) return 3 ;;
    *)
      printf 'natgw-startup: metadata %s: HTTP %s\n' "${key}" "${code}" >&2
      return 1
      ;;
  esac
}

# Prints a short instance attribute (the body, then the status code on its own line, split apart here).
metadata_value() {
  local key="$1" response code
  response="$(curl --silent --show-error --retry 5 --retry-connrefused --retry-delay 1 --max-time 30 \
    --header 'Metadata-Flavor: Google' --write-out '\n%{http_code}' \
    "${NATGW_METADATA_URL}/instance/attributes/${key}")" || return 1
  code="${response##*$'\n'}"
  [[ "${code}" == 200 ]] || return 1
  printf '%s' "${response%$'\n'*}"
}

# Maps each command the agent runs to the Debian package that provides it; installs only what is missing. conntrackd
# (state sync of stateful HA) is small, so every NAT VM gets it: a config change to stateful needs no new packages.
install_packages() {
  local missing=() pair command package
  for pair in node:nodejs nft:nftables conntrack:conntrack conntrackd:conntrackd tcpdump:tcpdump ip:iproute2 curl:curl; do
    command="${pair%%:*}"
    package="${pair#*:}"
    if [[ "${command}" == node ]]; then command="${NATGW_NODE_BIN}"; fi
    command -v "${command}" >/dev/null 2>&1 || missing+=("${package}")
  done
  if ((${#missing[@]} == 0)); then
    log "packages: all present"
    return 0
  fi
  log "packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_update_with_retries || die "apt-get update failed ${APT_UPDATE_ATTEMPTS} times"
  apt-get -o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_SECONDS}" install -y -q --no-install-recommends "${missing[@]}" ||
    die "apt-get install ${missing[*]} failed"
  disable_packaged_conntrackd
}

# Debian's package enables its own conntrackd.service (host-wide config, multicast); the agent runs conntrackd itself,
# with its own config, socket and lock under /run/natgw/conntrackd, only in stateful mode.
disable_packaged_conntrackd() {
  if systemctl list-unit-files conntrackd.service >/dev/null 2>&1; then
    systemctl disable --now conntrackd.service >/dev/null 2>&1 || log "packages: could not disable conntrackd.service"
    log "packages: disabled Debian's conntrackd.service (the agent runs its own conntrackd in stateful mode)"
  fi
}

# On first boot the guest environment, unattended-upgrades or cloud-init may hold the dpkg/apt locks, and a mirror
# may answer badly for a moment: wait for the lock (bounded) and retry the index update a few times.
apt_update_with_retries() {
  local attempt
  for ((attempt = 1; attempt <= APT_UPDATE_ATTEMPTS; attempt++)); do
    if apt-get -o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_SECONDS}" update -q; then
      return 0
    fi
    log "packages: apt-get update failed (attempt ${attempt}/${APT_UPDATE_ATTEMPTS})"
    if ((attempt < APT_UPDATE_ATTEMPTS)); then sleep "$((attempt * APT_RETRY_DELAY_SECONDS))"; fi
  done
  return 1
}

# The agent has no CAP_SYS_MODULE, so the modules it relies on are loaded here, while we are still full root. A module
# built into the kernel, or already loaded by the host of a container, fails here harmlessly.
load_modules() {
  local module
  for module in nf_conntrack nf_nat nf_tables nft_ct nft_nat nft_masq nft_chain_nat nft_limit nft_log nfnetlink_log nft_connlimit nft_fib_ipv4; do
    modprobe "${module}" 2>/dev/null || log "modules: ${module} not loaded (built in, or unavailable)"
  done
}

# Downloads natgw-agent-0..N into DIR, joins them, and decodes them to DIR/bundle.mjs.
fetch_bundle() {
  local dir="$1" index=0 status
  : >"${dir}/bundle.b64"
  while ((index < MAX_CHUNKS)); do
    status=0
    metadata_get "natgw-agent-${index}" "${dir}/chunk" || status=$?
    if ((status == 3)); then break; fi
    ((status == 0)) || die "could not read metadata natgw-agent-${index} from ${NATGW_METADATA_URL}"
    cat "${dir}/chunk" >>"${dir}/bundle.b64"
    index=$((index + 1))
  done
  rm -f "${dir}/chunk"
  ((index > 0)) || die "no agent bundle in metadata (natgw-agent-0 is missing); re-run natgw provision"
  base64 --decode "${dir}/bundle.b64" | gzip --decompress >"${dir}/bundle.mjs" || die "the agent bundle in metadata is not valid base64+gzip"
  log "agent: fetched ${index} chunk(s), $(wc -c <"${dir}/bundle.mjs") bytes"
}

# Fails loudly unless FILE's sha256 equals natgw-agent-sha256: an unverified agent is never installed or started.
verify_bundle() {
  local file="$1" expected actual
  expected="$(metadata_value natgw-agent-sha256)" || die "metadata natgw-agent-sha256 is missing; refusing to run an unverified agent"
  actual="$(sha256sum "${file}" | cut -d' ' -f1)"
  if [[ "${actual}" != "${expected}" ]]; then
    die "agent bundle checksum mismatch: metadata says ${expected}, the reassembled bundle is ${actual}; not starting it"
  fi
  log "agent: sha256 ${actual} verified"
}

# Replaces TARGET with stdin, mode MODE, by a rename within its directory: a crash never leaves half a file, and
# systemd, sysctl and the agent never read one. The staged name is unique: at boot the unit's update-agent and this
# script may install the same bundle at the same time.
install_atomically() {
  local mode="$1" target="$2" staged
  mkdir -p "$(dirname "${target}")"
  staged="$(mktemp "$(dirname "${target}")/.$(basename "${target}").XXXXXX")"
  cat >"${staged}"
  chmod "${mode}" "${staged}"
  mv -f "${staged}" "${target}"
}

install_bundle() {
  local file="$1" target="${NATGW_ROOT}${AGENT_DIR}/${AGENT_FILE}"
  install_atomically 0644 "${target}" <"${file}"
  log "agent: installed ${target}"
}

NATGW_STAGING=""

remove_staging() {
  if [[ -n "${NATGW_STAGING}" ]]; then rm -rf "${NATGW_STAGING}"; fi
  NATGW_STAGING=""
}

fetch_and_install_agent() {
  mkdir -p "${NATGW_ROOT}${AGENT_DIR}"
  NATGW_STAGING="$(mktemp -d "${NATGW_ROOT}${AGENT_DIR}/.fetch.XXXXXX")"
  # EXIT, not RETURN: die() exits the shell, and a failed fetch must not leave its pieces behind either.
  trap remove_staging EXIT
  fetch_bundle "${NATGW_STAGING}"
  verify_bundle "${NATGW_STAGING}/bundle.mjs"
  install_bundle "${NATGW_STAGING}/bundle.mjs"
  remove_staging
}

# Installs the bundle published in metadata unless the installed agent already is that bundle. Run by the unit before
# every start: a no-op at boot (main just installed it), the upgrade itself after the agent exits to restart into it.
update_agent() {
  local expected installed="${NATGW_ROOT}${AGENT_DIR}/${AGENT_FILE}"
  # Run by the unit, whose UMask keeps the agent's files private; what is installed here the agent must read.
  umask 0022
  expected="$(metadata_value natgw-agent-sha256)" || die "metadata natgw-agent-sha256 is missing; keeping the installed agent"
  if [[ -f "${installed}" && "$(sha256sum "${installed}" | cut -d' ' -f1)" == "${expected}" ]]; then
    log "agent: the installed bundle is the published one (sha256 ${expected})"
    return 0
  fi
  log "agent: a new bundle is published (sha256 ${expected}); installing it"
  fetch_and_install_agent
}

# The dedicated system user the agent runs as (no login, no home).
create_agent_user() {
  if getent passwd "${AGENT_USER}" >/dev/null; then
    log "user: ${AGENT_USER} exists"
    return 0
  fi
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "${AGENT_USER}" ||
    die "could not create the system user ${AGENT_USER}"
  log "user: created ${AGENT_USER}"
}

# Installs the agent's sysctl file as /etc/sysctl.d/99-natgw.conf (sorting after GCE's 60-gce-network-security.conf,
# which turns forwarding off). Root runs this (natgw-sysctl.service) on what the unprivileged agent wrote, so the file
# is read once, never through a link, and refused whole, without echoing it, unless every line is a natgw setting.
install_sysctl_conf() {
  local source="${NATGW_ROOT}${AGENT_SYSCTL_FILE}" target="${NATGW_ROOT}${SYSCTL_CONF}" content line
  if [[ -L "${source}" || ! -f "${source}" ]]; then
    log "sysctl: ${AGENT_SYSCTL_FILE} is not a regular file (not written yet); nothing to install"
    return 0
  fi
  content="$(head -c "$((SYSCTL_MAX_BYTES + 1))" -- "${source}")"
  ((${#content} <= SYSCTL_MAX_BYTES)) || die "sysctl: ${AGENT_SYSCTL_FILE} is larger than ${SYSCTL_MAX_BYTES} bytes; not installed"
  while IFS= read -r line; do
    if [[ -z "${line}" || "${line}" == \#* ]]; then continue; fi
    [[ "${line}" =~ ${SYSCTL_LINE_PATTERN} ]] || die "sysctl: ${AGENT_SYSCTL_FILE} holds a line that is not a natgw setting; not installed"
  done <<<"${content}"
  printf '%s\n' "${content}" | install_atomically 0644 "${target}"
  log "sysctl: installed ${SYSCTL_CONF}"
}

# A copy of this script for the unit's ExecStartPre; GCE runs startup scripts from a temporary file.
install_self() {
  install_atomically 0755 "${NATGW_ROOT}${AGENT_DIR}/${SCRIPT_FILE}" <"${BASH_SOURCE[0]}"
}

# Prints the unit. The agent runs as its own system user with CAP_NET_ADMIN alone (nftables, conntrack and conntrackd
# over netlink, /proc/sys/net, tcpdump's NFLOG reader), and the filesystem is read-only except what it writes.
render_unit() {
  cat <<UNIT
[Unit]
Description=natgw NAT gateway agent
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
# '+': outside the sandbox below, which keeps /opt read-only for the agent. '-': if the new bundle cannot be fetched or
# verified, the installed agent starts anyway (the failure is in the journal; the agent retries the upgrade later).
# timeout: a hung metadata server must not hold the start past TimeoutStartSec, which would fail the unit.
ExecStartPre=-+/usr/bin/timeout ${UPDATE_TIMEOUT_SECONDS} /bin/bash ${AGENT_DIR}/${SCRIPT_FILE} update-agent
ExecStart=${NATGW_NODE_BIN} ${AGENT_NODE_FLAGS} ${AGENT_DIR}/${AGENT_FILE} --restart-on-new-bundle --sysctl-file ${AGENT_SYSCTL_FILE}
Environment=NODE_ENV=production ${AGENT_ENVIRONMENT}
Restart=always
RestartSec=2
# An exit to upgrade is not a failure.
SuccessExitStatus=${UPGRADE_EXIT_CODE}
# Stopping removes nothing: NAT keeps working while the agent restarts; 'natgw agent --cleanup' removes the rules.
KillMode=mixed
TimeoutStopSec=15

User=${AGENT_USER}
Group=${AGENT_USER}
# NET_ADMIN covers every netlink call and /proc/sys/net. No NET_RAW: tcpdump reads NFLOG over netlink (checked as an
# unprivileged user), and as a non-root user it never tries to change its own. No SYS_MODULE: this script loads the
# modules at boot. The conntrack hash size is a module parameter only root may write: the kernel's default stays.
CapabilityBoundingSet=CAP_NET_ADMIN
AmbientCapabilities=CAP_NET_ADMIN
NoNewPrivileges=yes
ProtectSystem=strict
# /var/lib/natgw, owned by the agent's user: the port blocks' state (who held which ports survives a reboot) and the
# sysctls it persists (natgw-sysctl.service installs them).
StateDirectory=natgw
StateDirectoryMode=0700
# /run/natgw: the applied table's listing and conntrackd's files. Kept across restarts, so a restarted agent finds the
# table it applied and changes nothing; gone with a reboot, as the table is.
RuntimeDirectory=natgw
RuntimeDirectoryPreserve=yes
RuntimeDirectoryMode=0700
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
# Not ProtectKernelTunables: the agent's job is writing /proc/sys/net (forwarding, conntrack timeouts).
RestrictAddressFamilies=AF_INET AF_INET6 AF_NETLINK AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
# The port-block state is attribution history: the operator's (root's) to read, not every local user's.
UMask=0077

[Install]
WantedBy=multi-user.target
UNIT
}

# Prints the path unit and the service that install the agent's sysctls whenever it rewrites them.
render_sysctl_path_unit() {
  cat <<UNIT
[Unit]
Description=natgw: install the agent's sysctls into /etc/sysctl.d when it rewrites them

[Path]
PathChanged=${AGENT_SYSCTL_FILE}
Unit=${SYSCTL_UNIT}.service

[Install]
WantedBy=multi-user.target
UNIT
}

render_sysctl_service_unit() {
  cat <<UNIT
[Unit]
Description=natgw: install the agent's sysctls into ${SYSCTL_CONF} (root; only the settings natgw owns)

[Service]
Type=oneshot
# The agent could swap its file for a FIFO between the check and the read: bounded, a oneshot waits forever otherwise.
TimeoutStartSec=10
ExecStart=/bin/bash ${AGENT_DIR}/${SCRIPT_FILE} install-sysctl
UNIT
}

write_unit() {
  local dir="${NATGW_ROOT}/etc/systemd/system"
  mkdir -p "${dir}"
  render_unit | install_atomically 0644 "${dir}/${UNIT_NAME}"
  render_sysctl_path_unit | install_atomically 0644 "${dir}/${SYSCTL_UNIT}.path"
  render_sysctl_service_unit | install_atomically 0644 "${dir}/${SYSCTL_UNIT}.service"
  log "unit: wrote ${dir}/${UNIT_NAME}, ${SYSCTL_UNIT}.path and ${SYSCTL_UNIT}.service"
}

start_service() {
  systemctl daemon-reload
  systemctl enable --now "${SYSCTL_UNIT}.path"
  systemctl enable "${UNIT_NAME}"
  # restart, not start: a new bundle fetched at this boot must replace one already running.
  systemctl restart "${UNIT_NAME}"
  log "systemd: ${UNIT_NAME} enabled and (re)started"
}

main() {
  log "starting (root '${NATGW_ROOT:-/}', metadata ${NATGW_METADATA_URL})"
  install_packages
  load_modules
  fetch_and_install_agent
  install_self
  create_agent_user
  write_unit
  start_service
  log "done"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  case "${1:-}" in
    update-agent) update_agent ;;
    install-sysctl) install_sysctl_conf ;;
    *) main "$@" ;;
  esac
fi
