#!/usr/bin/env bash
# capture-fixtures.sh [OUT_DIR] -- start the lab (default cluster) if needed and save
# real Slurm outputs under OUT_DIR (default ./captured beside this script, ignored by
# git), with INDEX.md naming the exact command behind every file.  The outputs the
# tests read were captured this way and copied to fixtures/slurm/default/.
#
# JSON: Slurm 22.05 has `sinfo --json` and `squeue --json`, but no `--json` for
# scontrol or sacctmgr; their JSON is taken from slurmrestd (OpenAPI v0.0.38, the
# same data model), run for the capture only, as `nobody` on a unix socket.
set -Euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-$HERE/captured}
LAB=${SLURM_LAB_DIR:-/tmp/slurm-lab}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd /tmp

eval "$(bash "$HERE/start.sh")"

INDEX=$OUT/INDEX.md
cat >"$INDEX" <<EOF
# Fixtures: real Slurm $(sbatch --version | awk '{print $2}') outputs

Captured by \`capture-fixtures.sh\` on $(date -u +%Y-%m-%dT%H:%MZ) from the lab's default cluster
(\`cluster/nodes.conf\`, \`cluster/accounting.txt\`), with SLURM_CONF=$SLURM_CONF.
Each file holds the command's stdout (stderr too where the command failed).

| file | command |
|---|---|
EOF

# cap FILE COMMAND... -- run COMMAND, save its output, list it in INDEX.md
cap() {
    local file=$1; shift
    local rc=0
    "$@" >"$OUT/$file" 2>"$OUT/$file.err" || rc=$?
    if [ $rc != 0 ]; then cat "$OUT/$file.err" >>"$OUT/$file"; fi
    rm -f "$OUT/$file.err"
    local shown="" a
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:=,@+%-]+$ ]]; then shown+=" $a"; else shown+=" '$a'"; fi
    done
    shown=${shown# }
    if [ $rc = 0 ]; then
        printf '| `%s` | `%s` |\n' "$file" "${shown//|/\\|}" >>"$INDEX"
    else
        printf '| `%s` | `%s` (fails, exit %s: not supported in this version) |\n' "$file" "${shown//|/\\|}" "$rc" >>"$INDEX"
    fi
}

for f in slurm.conf gres.conf slurmdbd.conf accounting.txt; do
    [ -f "$LAB/etc/$f" ] && cp "$LAB/etc/$f" "$OUT/$f" && chmod 644 "$OUT/$f" && printf '| `%s` | the %s start.sh generated |\n' "$f" "$f" >>"$INDEX"
done

cap version.txt sbatch --version

# -- nodes and partitions ------------------------------------------------------
cap scontrol_show_nodes.txt scontrol show nodes
cap scontrol_show_nodes_oneliner.txt scontrol -o show nodes
cap scontrol_show_node_yop.txt scontrol show node yop
cap scontrol_show_nodes_json.txt scontrol show nodes --json
cap scontrol_show_partition.txt scontrol show partition
cap scontrol_show_partition_oneliner.txt scontrol -o show partition
cap scontrol_show_partition_json.txt scontrol show partition --json
cap scontrol_show_config.txt scontrol show config

cap sinfo.txt sinfo
cap sinfo_Nel.txt sinfo -N -e -l
cap sinfo_summarize.txt sinfo -s
cap sinfo_partitions.txt sinfo -h -o '%R|%a|%l|%L|%D|%c|%m|%f|%G|%N'
cap sinfo_partition_features.txt sinfo -h -o '%R %f %G %N'
cap sinfo_nodes.txt sinfo -h -N -o '%N|%R|%a|%t|%c|%m|%f|%b|%G|%l'
cap sinfo_nodes_Format.txt sinfo -N -O 'NodeList:12,Partition:10,Available:8,StateLong:10,CPUs:6,CPUsState:14,Memory:10,FreeMem:10,Features:24,FeaturesAct:24,Gres:20,GresUsed:32,Time:12'
cap sinfo.json sinfo --json
echo '| | (`sinfo -N --json` and slurmrestd `GET /slurm/v0.0.38/nodes` print exactly the same bytes as `sinfo --json`) |' >>"$INDEX"

# -- jobs: three held jobs, then cancelled ---------------------------------------
jobs=()
jobs+=("$(sbatch --parsable --hold -J gpu-constraint -p gpu,small -C '(A6000&GPU3&GPUM48G)|(RTX&GPU2&GPUM24G)' --gpus-per-node=2 -c 8 --mem=32G -t 1-00:00:00 -o /dev/null --wrap 'sleep 600')")
jobs+=("$(sbatch --parsable --hold -J a100 -p a100 -A iea@a100 --qos=qos_gpu-t3 --gres=gpu:a100:4 --mem-per-cpu=7500 -c 16 -t 20:00:00 -o /dev/null --wrap 'sleep 600')")
jobs+=("$(sbatch --parsable --hold -J cpu-array -p cpu --qos=qos_cpu-t3 -N 2 --ntasks-per-node=40 -t 600 --array=0-3 -o /dev/null --wrap 'sleep 600')")
cap squeue.txt squeue
cap squeue_format.txt squeue -h -o '%i|%j|%P|%q|%a|%T|%r|%l|%D|%C|%m|%b|%f|%N'
cap squeue.json squeue --json
cap scontrol_show_job.txt scontrol show job
cap scontrol_show_job_oneliner.txt scontrol -o show job
for j in "${jobs[@]}"; do scancel "$j" 2>/dev/null || true; done

# -- accounting ---------------------------------------------------------------------
cap sacctmgr_show_qos.txt sacctmgr show qos
cap sacctmgr_show_qos_parsable.txt sacctmgr -P show qos
cap sacctmgr_show_qos_selected.txt sacctmgr -n -P show qos format=Name,Priority,MaxWall,MaxTRES,MaxTRESPerNode,MaxTRESPU,MaxJobsPU,MaxSubmitPU,Flags,Description
cap sacctmgr_show_qos_json.txt sacctmgr show qos --json
cap sacctmgr_show_assoc.txt sacctmgr -P show assoc format=Cluster,Account,User,Partition,QOS,DefaultQOS,MaxWall,GrpTRES
# what discovery runs for the current user (docs/semantics.md §3): the lab's two users
for u in root nobody; do
    cap "sacctmgr_show_assoc_user_$u.txt" sacctmgr --parsable2 show assoc where "user=$u" format=Account,User,Partition,QOS
done
cap sacctmgr_show_account.txt sacctmgr -P show account withassoc format=Account,Description,Organization,User,QOS
cap sacctmgr_show_user.txt sacctmgr -P show user withassoc format=User,DefaultAccount,Account,QOS,DefaultQOS
cap sacctmgr_show_cluster.txt sacctmgr -P show cluster format=Cluster,ControlHost,ControlPort,RPC,QOS

# -- JSON for what scontrol/sacctmgr cannot print as JSON in 22.05: slurmrestd ------
REST=$LAB/rest
if ! dpkg-query -W -f='${Status}' slurmrestd 2>/dev/null | grep -q 'install ok installed'; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurmrestd >>"$LAB/log/apt.log" 2>&1 \
        || { apt-get update -q >>"$LAB/log/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurmrestd >>"$LAB/log/apt.log" 2>&1; } \
        || echo "slurmrestd cannot be installed: no REST JSON fixtures" >&2
fi
if command -v slurmrestd >/dev/null; then
    rm -rf "$REST"; mkdir -p "$REST"; chown nobody "$REST"
    setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
        slurmrestd -a rest_auth/local "unix:$REST/rest.sock" </dev/null >"$LAB/log/slurmrestd.log" 2>&1 &
    rest_pid=$!
    for _ in $(seq 50); do [ -S "$REST/rest.sock" ] && break; sleep 0.1; done
    rest() {  # rest FILE PATH
        setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
            curl -sS --unix-socket "$REST/rest.sock" "http://localhost$2" >"$OUT/$1"
        printf '| `%s` | `GET %s` (slurmrestd -a rest_auth/local, as nobody) |\n' "$1" "$2" >>"$INDEX"
    }
    rest restd_partitions.json /slurm/v0.0.38/partitions
    rest restd_qos.json /slurmdb/v0.0.38/qos
    rest restd_associations.json /slurmdb/v0.0.38/associations
    rest restd_accounts.json /slurmdb/v0.0.38/accounts
    kill "$rest_pid" 2>/dev/null; wait "$rest_pid" 2>/dev/null
    rm -rf "$REST"
fi

echo "wrote $(ls "$OUT" | wc -l) files to $OUT" >&2
