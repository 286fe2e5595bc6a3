#!/usr/bin/env bash
# stop.sh [--purge] -- stop every daemon start.sh started for $SLURM_LAB_DIR
# (default /tmp/slurm-lab), using its pid files; --purge also deletes the lab dir.
#
# Only processes whose pid file lies in the lab dir AND whose command line (or, for
# slurmdbd, SLURM_CONF) names the lab dir are signalled: TERM, then KILL after 10 s.
# tests/slurm_lab.py runs it at the end of a session that started the lab (unless
# SLURM_LAB_KEEP=1); see docs/slurm.md ("The Slurm lab").
set -Euo pipefail
PATH=$PATH:/usr/sbin:/usr/bin:/sbin:/bin

LAB=${SLURM_LAB_DIR:-/tmp/slurm-lab}
LAB=${LAB%/}
CONF=$LAB/etc/slurm.conf
PURGE=0
for a in "$@"; do
    case "$a" in
        --purge) PURGE=1 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
    esac
done

log() { printf '[slurm-lab stop] %s\n' "$*" >&2; }

[ -d "$LAB" ] || { log "nothing to stop: $LAB does not exist"; exit 0; }
exec 9>"$LAB.lock"
flock -w 120 9 || { log "ERROR: $LAB.lock is held by a running start.sh"; exit 1; }

# ours PID -- live, non-zombie process that belongs to this lab
ours() {
    local pid=$1 state
    [ -r "/proc/$pid/stat" ] || return 1
    state=$(sed -E 's/^[0-9]+ \(.*\) (.) .*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$state" != Z ] || return 1
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF "$LAB/" && return 0
    tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep -qxF "SLURM_CONF=$CONF"
}

# stop_group NAME PIDFILE... -- TERM all, wait up to 10 s, KILL the rest
stop_group() {
    local name=$1; shift
    local f pid pids=()
    for f in "$@"; do
        [ -s "$f" ] || continue
        pid=$(tr -dc '0-9' 2>/dev/null <"$f")
        [ -n "$pid" ] && ours "$pid" && pids+=("$pid")
    done
    if [ ${#pids[@]} -gt 0 ]; then
        log "stopping $name (pid ${pids[*]})"
        kill -TERM "${pids[@]}" 2>/dev/null || true
        local i left
        for i in $(seq 100); do
            left=()
            for pid in "${pids[@]}"; do ours "$pid" && left+=("$pid"); done
            [ ${#left[@]} -eq 0 ] && break
            sleep 0.1
        done
        if [ ${#left[@]} -gt 0 ]; then
            log "killing $name (pid ${left[*]}) after 10 s"
            kill -KILL "${left[@]}" 2>/dev/null || true
        fi
    fi
    rm -f "$@"
}

shopt -s nullglob
stop_group slurmd "$LAB"/run/slurmd-*.pid
stop_group slurmctld "$LAB/run/slurmctld.pid"
stop_group slurmdbd "$LAB/run/slurmdbd.pid"
stop_group mariadbd "$LAB/mysql/mysqld.pid"
stop_group munged "$LAB/munge/munged.pid"

# Anything of ours left without a pid file (e.g. start.sh interrupted between fork
# and pid file): a process whose command line names this lab dir.
left=()
for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    [ "$pid" != $$ ] || continue
    comm=$(cat "$d/comm" 2>/dev/null) || continue
    case "$comm" in slurmctld|slurmd|slurmdbd|slurmstepd|mariadbd|munged) ours "$pid" && left+=("$pid") ;; esac
done
if [ ${#left[@]} -gt 0 ]; then
    log "stopping leftover processes without pid file: ${left[*]}"
    kill -TERM "${left[@]}" 2>/dev/null || true
    sleep 2
    for pid in "${left[@]}"; do ours "$pid" && kill -KILL "$pid" 2>/dev/null; done
fi

if [ "$PURGE" = 1 ]; then
    log "removing $LAB"
    rm -rf "${LAB:?}"
    rm -f "$LAB.lock"
fi
log "stopped"
