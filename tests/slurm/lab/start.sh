#!/usr/bin/env bash
# start.sh [CLUSTER_CONF_DIR] -- start (or reuse) a private Slurm cluster on 127.0.0.1.
#
# reqsolve's Slurm lab: tests/slurm_lab.py runs this script once per pytest session so
# that every option set reqsolve emits is checked by a real slurmctld (sbatch
# --test-only); docs/slurm.md ("The Slurm lab") says how to run it by hand.
#
# A real slurmctld plus one real slurmd per fake node (`slurmd -N <node>`), all on
# loopback, with fake GPUs (gres.conf over mknod'ed /dev/nvidiaN look-alikes) and,
# when MariaDB can be installed, slurmdbd accounting (QoS, accounts, limits).
#
# CLUSTER_CONF_DIR (default: ./cluster beside this script) holds
#   nodes.conf      NodeName/PartitionName lines (+ any slurm.conf override lines)
#   gres.conf       optional; generated from the Gres= of each NodeName line if absent
#   accounting.txt  optional; sacctmgr commands, one per line (default: ./cluster/accounting.txt)
#
# Environment:
#   SLURM_LAB_DIR         state, config, logs, pid files     (default /tmp/slurm-lab)
#   SLURM_LAB_PORT        slurmctld port; slurmd = +1, mariadb = +2, slurmdbd = +3,
#                         fake nodes = +100..                 (default 16817)
#   SLURM_LAB_ACCOUNTING  auto | yes | no  (auto: slurmdbd+MariaDB if installable)
#   SLURM_LAB_TIMEOUT     seconds to wait for the cluster     (default 120)
#
# stdout: shell lines to eval (export SLURM_CONF=...); progress goes to stderr.
# Exit codes: 0 up; 3 Slurm cannot be installed/run here (tests should skip);
#             1 anything else (tests should fail).
set -Eeuo pipefail
umask 022                                   # configs must be readable by non-root clients
PATH=$PATH:/usr/sbin:/usr/bin:/sbin:/bin    # slurmctld, munged, mariadbd live in sbin

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB=${SLURM_LAB_DIR:-/tmp/slurm-lab}
LAB=${LAB%/}
PORT=${SLURM_LAB_PORT:-16817}
ACCOUNTING=${SLURM_LAB_ACCOUNTING:-auto}
TIMEOUT=${SLURM_LAB_TIMEOUT:-120}
CLUSTER_DIR=${1:-$HERE/cluster}
CLUSTER_NAME=reqsolve-test

SLURMD_PORT=$((PORT + 1))
DB_PORT=$((PORT + 2))
DBD_PORT=$((PORT + 3))
NODE_PORT0=$((PORT + 100))

ETC=$LAB/etc
CONF=$ETC/slurm.conf
MUNGE_SOCK=$LAB/munge/munge.socket
DB_SOCK=$LAB/mysql/mysqld.sock

T0=$(date +%s%N)
log() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[slurm-lab %3d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
unavailable() { log "UNAVAILABLE: $*"; exit 3; }

# Never let a Slurm client fall back to DNS SRV look-ups (configless mode): every
# client call below sees an explicit SLURM_CONF.  Drop job variables from a caller
# that itself runs inside a Slurm job.
while IFS='=' read -r name _; do unset "$name"; done < <(env | grep -E '^(SLURM|SBATCH|SRUN|SALLOC)_' || true)

# ---------------------------------------------------------------- preconditions
[ "$(id -u)" = 0 ] || unavailable "must run as root (slurmd and munged need it); uid=$(id -u)"
[ -f "$CLUSTER_DIR/nodes.conf" ] || die "no nodes.conf in cluster dir '$CLUSTER_DIR'"
CLUSTER_DIR=$(cd "$CLUSTER_DIR" && pwd)
case "$ACCOUNTING" in auto|yes|no) ;; *) die "SLURM_LAB_ACCOUNTING must be auto, yes or no";; esac
[ ${#MUNGE_SOCK} -lt 100 ] || die "SLURM_LAB_DIR too long for a unix socket path: $LAB"

mkdir -p "$LAB"
exec 9>"$LAB.lock"
flock -w 600 9 || die "another start.sh/stop.sh holds $LAB.lock"

mkdir -p "$ETC" "$LAB/state" "$LAB/spool" "$LAB/log" "$LAB/run" "$LAB/munge" "$LAB/dev" "$LAB/mysql"
chmod 755 "$LAB" "$LAB/munge"

# ---------------------------------------------------------------- packages
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_install() {   # apt_install PKG... ; returns non-zero when it cannot
    command -v apt-get >/dev/null || return 1
    local guard=0 rc=0
    # Keep Debian's maintainer scripts from starting system-wide munged/slurm daemons
    # (no systemd here: invoke-rc.d would run the /etc/init.d scripts).
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && guard=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    local opts=(-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef
                -o Dpkg::Options::=--force-confold --no-install-recommends)
    if ! apt-get install "${opts[@]}" "$@" >>"$LAB/log/apt.log" 2>&1; then
        log "apt-get install failed, running apt-get update once and retrying"
        { apt-get update -q -o DPkg::Lock::Timeout=300 >>"$LAB/log/apt.log" 2>&1 && apt-get install "${opts[@]}" "$@" >>"$LAB/log/apt.log" 2>&1; } || rc=$?
    fi
    [ "$guard" = 1 ] && rm -f /usr/sbin/policy-rc.d
    return $rc
}

missing=()
for p in slurmctld slurmd slurm-client munge; do pkg_installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (log: $LAB/log/apt.log)"
    apt_install "${missing[@]}" || unavailable "cannot install ${missing[*]} with apt-get (see $LAB/log/apt.log)"
fi
for c in slurmctld slurmd sbatch scontrol munged mungekey; do
    command -v "$c" >/dev/null || unavailable "$c not found after installing Slurm"
done

if [ "$ACCOUNTING" != no ]; then
    missing=()
    for p in slurmdbd mariadb-server-core mariadb-client-core; do pkg_installed "$p" || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]} for accounting (log: $LAB/log/apt.log)"
        if ! apt_install "${missing[@]}"; then
            [ "$ACCOUNTING" = yes ] && unavailable "cannot install ${missing[*]} (SLURM_LAB_ACCOUNTING=yes)"
            log "WARNING: cannot install ${missing[*]}: running WITHOUT accounting (no QoS/accounts)"
            ACCOUNTING=no
        fi
    fi
    [ "$ACCOUNTING" = no ] || ACCOUNTING=yes
fi

# ---------------------------------------------------------------- helpers
# alive PIDFILE -- the pid in PIDFILE is a live (non-zombie) process started for this lab
alive() {
    local pid state
    [ -s "$1" ] || return 1
    pid=$(tr -dc '0-9' 2>/dev/null <"$1") || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
    state=$(sed -E 's/^[0-9]+ \(.*\) (.) .*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$state" != Z ] || return 1
    # ours if its command line or its SLURM_CONF names this lab (slurmdbd has no -f)
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$LAB/" && return 0
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "SLURM_CONF=$CONF"
}

# wait_for SECONDS DESCRIPTION COMMAND... -- poll COMMAND every 0.2 s
wait_for() {
    local limit=$1 what=$2; shift 2
    local end=$(( $(date +%s) + limit ))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.2
    done
}

# daemon LOGNAME COMMAND... -- start COMMAND (a daemon kept in the foreground) in its
# own session, detached from our stdio and lock; DAEMON_PID is its pid.
daemon() {
    local out=$LAB/log/$1.out; shift
    setsid "$@" </dev/null >>"$out" 2>&1 9>&- &
    DAEMON_PID=$!
}

# running PID -- PID is neither gone nor a zombie
running() { local st; st=$(sed -E 's/^[0-9]+ \(.*\) (.) .*/\1/' "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]; }

# wait_up SECONDS PID COMMAND... -- like wait_for, but give up as soon as PID dies
wait_up() {
    local limit=$1 pid=$2; shift 2
    local end=$(( $(date +%s) + limit ))
    until "$@" >/dev/null 2>&1; do
        running "$pid" || return 1
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.2
    done
}

tail_log() { [ -f "$1" ] && tail -n "${2:-20}" "$1" | sed 's/^/    /' >&2 || true; }

# ---------------------------------------------------------------- config generation
NEW=$ETC/new
rm -rf "$NEW"; mkdir -p "$NEW"
printf 'ClusterName=bootstrap\nSlurmctldHost=localhost\n' >"$NEW/bootstrap.conf"
hostnames() { SLURM_CONF=$NEW/bootstrap.conf scontrol show hostnames "$1"; }

NODES=()          # every node that gets a slurmd
declare -A GRES_NAMES=([gpu]=1)
MAX_GPU=0
node_lines=$NEW/nodes.part
gres_lines=$NEW/gres.part
: >"$node_lines"; : >"$gres_lines"
next_port=$NODE_PORT0

while IFS= read -r line || [ -n "$line" ]; do
    line=${line//@SLURM_LAB_DIR@/$LAB}
    trimmed=${line#"${line%%[![:space:]]*}"}
    lc=${trimmed,,}
    if [[ $lc == nodename=* && $lc != nodename=default* ]]; then
        names=${trimmed%%[[:space:]]*}; names=${names#*=}
        mapfile -t hosts < <(hostnames "$names")
        [ ${#hosts[@]} -gt 0 ] || die "cannot expand NodeName=$names"
        extra=""
        [[ " $lc" =~ [[:space:]]nodeaddr= ]] || extra+=" NodeAddr=127.0.0.1"
        if [[ ! " $lc" =~ [[:space:]]port= ]]; then
            last=$((next_port + ${#hosts[@]} - 1))
            if [ ${#hosts[@]} -eq 1 ]; then extra+=" Port=$next_port"; else extra+=" Port=[$next_port-$last]"; fi
            next_port=$((last + 1))
        fi
        printf '%s%s\n' "$line" "$extra" >>"$node_lines"
        [[ " $lc" =~ [[:space:]]state=(future|cloud) ]] || NODES+=("${hosts[@]}")
        # Gres=gpu:a6000:3,gpu:2,mps:100 -> gres.conf lines (fake device files for gpu)
        if [[ " $trimmed" =~ [[:space:]][Gg][Rr][Ee][Ss]=([^[:space:]]+) ]]; then
            idx=0
            IFS=',' read -ra entries <<<"${BASH_REMATCH[1]}"
            for e in "${entries[@]}"; do
                IFS=':' read -ra f <<<"$e"
                gname=${f[0]}; gtype=""; gcount=1
                case ${#f[@]} in
                    1) ;;
                    2) if [[ ${f[1]} =~ ^[0-9]+[KMGT]?$ ]]; then gcount=${f[1]}; else gtype=${f[1]}; fi ;;
                    *) gtype=${f[1]}; gcount=${f[2]} ;;
                esac
                GRES_NAMES[$gname]=1
                spec="NodeName=$names Name=$gname"
                [ -n "$gtype" ] && spec+=" Type=$gtype"
                if [ "$gname" = gpu ]; then
                    [[ $gcount =~ ^[0-9]+$ ]] || die "gpu count must be an integer in '$e'"
                    # spread the GPUs over the sockets as NVML autodetection would,
                    # so that Gres shows e.g. gpu:a6000:3(S:0-1)
                    nsock=1; cps=0
                    [[ " $lc" =~ [[:space:]](socketsperboard|sockets)=([0-9]+) ]] && nsock=${BASH_REMATCH[2]}
                    [[ " $lc" =~ [[:space:]]corespersocket=([0-9]+) ]] && cps=${BASH_REMATCH[1]}
                    for ((s = 0; s < nsock; s++)); do
                        first=$(( (s * gcount + nsock - 1) / nsock ))
                        last=$(( ((s + 1) * gcount + nsock - 1) / nsock - 1 ))
                        [ $last -ge $first ] || continue
                        a=$((idx + first)); b=$((idx + last))
                        if [ $a -eq $b ]; then line_spec="$spec File=$LAB/dev/nvidia$a"
                        else line_spec="$spec File=$LAB/dev/nvidia[$a-$b]"; fi
                        [ "$cps" -gt 0 ] && line_spec+=" Cores=$((s * cps))-$(((s + 1) * cps - 1))"
                        echo "$line_spec" >>"$gres_lines"
                    done
                    idx=$((idx + gcount))
                    [ $idx -le $MAX_GPU ] || MAX_GPU=$idx
                else
                    echo "$spec Count=$gcount" >>"$gres_lines"
                fi
            done
        fi
    elif [[ $lc == partitionname=* && $ACCOUNTING == no ]]; then
        # without slurmdbd these would reject every job of the partition
        stripped=$(sed -E 's/(^|[[:space:]]+)(AllowAccounts|AllowQos|DenyAccounts|DenyQos|QOS)=[^[:space:]]+//gI' <<<"$line")
        if [ "$stripped" != "$line" ]; then
            log "accounting=no: dropping AllowAccounts/AllowQos/DenyAccounts/DenyQos/QOS from ${trimmed%%[[:space:]]*}"
            printf '%s  # accounting=no: account/QoS filters removed\n' "$stripped" >>"$node_lines"
        else
            printf '%s\n' "$line" >>"$node_lines"
        fi
    else
        printf '%s\n' "$line" >>"$node_lines"
    fi
done <"$CLUSTER_DIR/nodes.conf"
[ ${#NODES[@]} -gt 0 ] || die "nodes.conf defines no node"

GRES_TYPES=$(IFS=,; echo "${!GRES_NAMES[*]}")

{
    echo "# Generated by $HERE/start.sh from $CLUSTER_DIR -- edit those files, not this one."
    echo "AutoDetect=off"
    if [ -f "$CLUSTER_DIR/gres.conf" ]; then
        sed "s#@SLURM_LAB_DIR@#$LAB#g" "$CLUSTER_DIR/gres.conf"
    else
        cat "$gres_lines"
    fi
} >"$NEW/gres.conf"

if [ "$ACCOUNTING" = yes ]; then
    ACCT_CONF="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# the munge socket for slurmdbd connections (sacctmgr, slurmctld) is given here
AccountingStoragePass=$MUNGE_SOCK
AccountingStorageEnforce=associations,limits,qos
AccountingStorageTRES=gres/gpu
PriorityType=priority/multifactor
PriorityWeightQOS=1000"
else
    # (AccountingStorageTRES=gres/gpu would be fatal without slurmdbd)
    ACCT_CONF="AccountingStorageType=accounting_storage/none
PriorityType=priority/basic"
fi

cat >"$NEW/slurm.conf" <<EOF
# Generated by $HERE/start.sh from $CLUSTER_DIR/nodes.conf -- edit that file, not this one.
# A private test cluster: every daemon listens on 127.0.0.1 only.
ClusterName=$CLUSTER_NAME
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$SLURMD_PORT
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
CredType=cred/munge
StateSaveLocation=$LAB/state
SlurmdSpoolDir=$LAB/spool/%n
SlurmctldPidFile=$LAB/run/slurmctld.pid
SlurmdPidFile=$LAB/run/slurmd-%n.pid
SlurmctldLogFile=$LAB/log/slurmctld.log
SlurmdLogFile=$LAB/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
# no cgroups, no real hardware: trust this file for CPUs, memory and GPUs
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SlurmdParameters=config_overrides
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=$GRES_TYPES
SchedulerType=sched/backfill
MpiDefault=none
SwitchType=switch/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdTimeout=300
InactiveLimit=0
MinJobAge=300
KillWait=30
Waittime=0
# reject at submission what can never run (sbatch --test-only then says why)
EnforcePartLimits=ALL
$ACCT_CONF

# ---- cluster: $CLUSTER_DIR/nodes.conf (NodeAddr/Port added by start.sh) ----
EOF
cat "$node_lines" >>"$NEW/slurm.conf"

if [ "$ACCOUNTING" = yes ]; then
    cat >"$NEW/slurmdbd.conf" <<EOF
# Generated by $HERE/start.sh
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCK
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
DebugLevel=info
LogFile=$LAB/log/slurmdbd.log
PidFile=$LAB/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=root
StorageLoc=slurm_acct_db
EOF
    ACCT_FILE=$CLUSTER_DIR/accounting.txt
    [ -f "$ACCT_FILE" ] || ACCT_FILE=$HERE/cluster/accounting.txt
    cp "$ACCT_FILE" "$NEW/accounting.txt"
fi

# Same config as the running cluster? Then this is a no-op.
changed=0
for f in slurm.conf gres.conf slurmdbd.conf accounting.txt; do
    if [ -f "$NEW/$f" ] || [ -f "$ETC/$f" ]; then
        cmp -s "$NEW/$f" "$ETC/$f" 2>/dev/null || changed=1
    fi
done

all_slurmd_alive() { local n; for n in "${NODES[@]}"; do alive "$LAB/run/slurmd-$n.pid" || return 1; done; }

export SLURM_CONF=$CONF

print_env() {
    cat >"$LAB/env.sh" <<EOF
export SLURM_CONF=$CONF
EOF
    cat <<EOF
# Slurm $(sbatch --version | awk '{print $2}') lab '$CLUSTER_NAME' on 127.0.0.1:$PORT, ${#NODES[@]} nodes, accounting=$ACCOUNTING, dir=$LAB
# Point every Slurm client (sbatch, scontrol, sinfo, squeue, sacctmgr) at it with:
export SLURM_CONF=$CONF
EOF
}

if [ "$changed" = 0 ] && alive "$LAB/run/slurmctld.pid" && all_slurmd_alive \
   && { [ "$ACCOUNTING" = no ] || alive "$LAB/run/slurmdbd.pid"; } \
   && scontrol ping >/dev/null 2>&1; then
    rm -rf "$NEW"
    log "already running with the same configuration"
    print_env
    exit 0
fi

# ---------------------------------------------------------------- stop what the new config replaces
stop_pid() {   # stop_pid PIDFILE...: TERM, wait, KILL
    local f pid pids=()
    for f in "$@"; do alive "$f" && pids+=("$(tr -dc '0-9' 2>/dev/null <"$f")"); done
    [ ${#pids[@]} -gt 0 ] || return 0
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 100); do
        local left=0
        for f in "$@"; do alive "$f" && left=1; done
        [ $left = 0 ] && return 0
        sleep 0.1
    done
    for f in "$@"; do alive "$f" && kill -KILL "$(tr -dc '0-9' 2>/dev/null <"$f")" 2>/dev/null; done
    return 0
}

if [ "$changed" = 1 ]; then
    [ -f "$CONF" ] && log "configuration changed: restarting slurmctld and slurmd"
    shopt -s nullglob
    stop_pid "$LAB"/run/slurmd-*.pid
    stop_pid "$LAB/run/slurmctld.pid"
    if ! cmp -s "$NEW/slurmdbd.conf" "$ETC/slurmdbd.conf" 2>/dev/null; then stop_pid "$LAB/run/slurmdbd.pid"; fi
    [ "$ACCOUNTING" = yes ] || stop_pid "$LAB/mysql/mysqld.pid"
    shopt -u nullglob
    rm -rf "${LAB:?}/state" "${LAB:?}/spool"
    mkdir -p "$LAB/state" "$LAB/spool"
    for f in slurm.conf gres.conf slurmdbd.conf accounting.txt; do
        if [ -f "$NEW/$f" ]; then mv -f "$NEW/$f" "$ETC/$f"; else rm -f "$ETC/$f"; fi
    done
    [ -f "$ETC/slurmdbd.conf" ] && chmod 600 "$ETC/slurmdbd.conf"
fi
rm -rf "$NEW"

# fake GPU device nodes (nvidia major 195); plain files if mknod is not allowed
for ((i = 0; i < MAX_GPU; i++)); do
    [ -e "$LAB/dev/nvidia$i" ] || mknod "$LAB/dev/nvidia$i" c 195 "$i" 2>/dev/null || touch "$LAB/dev/nvidia$i"
done

# ---------------------------------------------------------------- munge
munge_ok() { munge -n -S "$MUNGE_SOCK" | unmunge -S "$MUNGE_SOCK"; }
if ! alive "$LAB/munge/munged.pid" || ! munge_ok >/dev/null 2>&1; then
    stop_pid "$LAB/munge/munged.pid"
    if [ ! -s "$LAB/munge/munge.key" ]; then
        log "creating munge key $LAB/munge/munge.key"
        mungekey --create --keyfile="$LAB/munge/munge.key" 2>/dev/null \
            || dd if=/dev/urandom of="$LAB/munge/munge.key" bs=1024 count=1 status=none
    fi
    chmod 400 "$LAB/munge/munge.key"
    rm -f "$MUNGE_SOCK" "$MUNGE_SOCK.lock"
    log "starting munged"
    daemon munged munged --foreground --key-file="$LAB/munge/munge.key" --socket="$MUNGE_SOCK" \
        --pid-file="$LAB/munge/munged.pid" --log-file="$LAB/log/munged.log" \
        --seed-file="$LAB/munge/munged.seed" --origin=127.0.0.1 --num-threads=2
    wait_up 20 "$DAEMON_PID" munge_ok || { tail_log "$LAB/log/munged.log"; tail_log "$LAB/log/munged.out"; die "munged did not start"; }
fi

# ---------------------------------------------------------------- accounting: MariaDB + slurmdbd
sacct_ok() { sacctmgr -n -P show cluster format=cluster; }
if [ "$ACCOUNTING" = yes ]; then
    DB_DIR=$LAB/mysql/data
    if ! alive "$LAB/mysql/mysqld.pid"; then
        if [ ! -d "$DB_DIR/mysql" ]; then
            log "initialising MariaDB data dir"
            rm -rf "$DB_DIR" "$LAB/mysql/accounting.applied"
            mariadb-install-db --no-defaults --datadir="$DB_DIR" --user=root \
                --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
                --innodb-log-file-size=16M >"$LAB/log/mariadb-install.log" 2>&1 \
                || { tail_log "$LAB/log/mariadb-install.log"; die "mariadb-install-db failed"; }
        fi
        log "starting mariadbd on 127.0.0.1:$DB_PORT"
        rm -f "$DB_SOCK"
        daemon mariadbd mariadbd --no-defaults --user=root --datadir="$DB_DIR" \
            --socket="$DB_SOCK" --pid-file="$LAB/mysql/mysqld.pid" \
            --bind-address=127.0.0.1 --port="$DB_PORT" --skip-name-resolve \
            --log-error="$LAB/log/mariadb.log" --innodb-buffer-pool-size=32M \
            --innodb-log-file-size=16M --performance-schema=OFF --skip-log-bin \
            --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --sync-frm=0
        wait_up 60 "$DAEMON_PID" mariadb --no-defaults -S "$DB_SOCK" -uroot -e 'select 1' \
            || { tail_log "$LAB/log/mariadb.log"; die "mariadbd did not start"; }
    fi
    if ! alive "$LAB/run/slurmdbd.pid"; then
        log "starting slurmdbd on 127.0.0.1:$DBD_PORT"
        daemon slurmdbd slurmdbd -D
        wait_up 60 "$DAEMON_PID" sacct_ok || { tail_log "$LAB/log/slurmdbd.log"; die "slurmdbd did not answer"; }
    fi
    if ! sacctmgr -n -P show cluster format=cluster | grep -qx "$CLUSTER_NAME"; then
        sacctmgr -i add cluster "$CLUSTER_NAME" >/dev/null || die "sacctmgr add cluster failed"
    fi
fi

# ---------------------------------------------------------------- slurmctld
if ! alive "$LAB/run/slurmctld.pid"; then
    log "starting slurmctld on 127.0.0.1:$PORT"
    rm -rf "${LAB:?}/state"; mkdir -p "$LAB/state"
    daemon slurmctld slurmctld -D -c -f "$CONF"
    wait_up 60 "$DAEMON_PID" scontrol ping || { tail_log "$LAB/log/slurmctld.log"; die "slurmctld did not answer"; }
fi

# ---------------------------------------------------------------- accounting data
# After slurmctld: it registers AccountingStorageTRES (gres/gpu) in the database,
# which QoS limits such as MaxTRESPerJob=gres/gpu=8 need.
apply_accounting() {
    log "applying $(basename "$ETC/accounting.txt") (sacctmgr)"
    while IFS= read -r cmd || [ -n "$cmd" ]; do
        cmd=${cmd%%#*}; [[ $cmd =~ [^[:space:]] ]] || continue
        for try in 1 2 3 4 5 6 7 8 9 10; do
            out=$(eval "sacctmgr -i $cmd" </dev/null 2>&1) && break
            grep -qiE 'already exists|nothing (new )?(added|modified)|no change' <<<"$out" && break
            # slurmctld registers AccountingStorageTRES (gres/gpu) just after it starts
            grep -qi 'no TRES known' <<<"$out" && [ $try -lt 10 ] && { sleep 1; continue; }
            die "sacctmgr $cmd: $out"
        done
    done <"$ETC/accounting.txt"
}
# The database outlives slurmctld restarts: apply a given accounting.txt only once.
# (Entities are only ever added or modified: stop.sh --purge resets the database.)
if [ "$ACCOUNTING" = yes ]; then
    stamp=$LAB/mysql/accounting.applied
    sum=$(sha256sum <"$ETC/accounting.txt" | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
        apply_accounting
        # partitions' AllowQos/AllowAccounts named QoS that did not exist at startup
        scontrol reconfigure || die "scontrol reconfigure failed"
        echo "$sum" >"$stamp"
    fi
fi

# ---------------------------------------------------------------- one slurmd per fake node
started=0
for n in "${NODES[@]}"; do
    alive "$LAB/run/slurmd-$n.pid" && continue
    mkdir -p "$LAB/spool/$n"
    daemon "slurmd-$n" slurmd -D -N "$n" -f "$CONF"
    started=$((started + 1))
done
[ $started = 0 ] || log "started $started slurmd (one per node)"

# ready = every node registered and responding (no '*', not unknown/invalid)
nodes_ready() {
    local states good
    states=$(sinfo -h -N -o '%N %t') || return 1
    good=$(awk '$2 !~ /\*$|^unk|^inval|^fail/ {print $1}' <<<"$states" | sort -u | wc -l)
    [ "$good" -ge "${#NODES[@]}" ]
}
if ! wait_for "$TIMEOUT" "nodes ready" nodes_ready; then
    sinfo -N -o '%N %t %E' | sort -u | sed 's/^/    /' >&2
    for n in "${NODES[@]}"; do alive "$LAB/run/slurmd-$n.pid" || { log "slurmd $n is not running:"; tail_log "$LAB/log/slurmd-$n.log" 5; tail_log "$LAB/log/slurmd-$n.out" 5; }; done
    tail_log "$LAB/log/slurmctld.log"
    die "nodes did not become ready within ${TIMEOUT}s"
fi
log "cluster ready"
print_env
