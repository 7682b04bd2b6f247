#!/usr/bin/env bash
# scripts/lab.d/smoke.sh (also: scripts/lab selftest [--no-bench] [--bench-only])
# Checks that every piece of the lab really works, prints a timing per check and
# "N passed, N failed"; exits 1 when a check failed. It brings the lab up first and
# leaves it pristine (containers and MariaDB reset) at the end.
# Benchmark (host4 with 20 containers): sequential `docker restart` loop against
# `xargs -P 8 docker restart`, from killed containers (a host that went down).
set -uo pipefail

LAB=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lab
LAB=$(readlink -f "$LAB")
BENCH=1 CHECKS=1 BENCH_N=${MEND_LAB_BENCH_N:-20}
for a in "$@"; do
    case $a in
    --no-bench) BENCH=0 ;;
    --bench-only) CHECKS=0 ;;
    *) echo "usage: smoke.sh [--no-bench|--bench-only]" >&2; exit 2 ;;
    esac
done

PASS=0 FAIL=0 FAILED=()
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
now_us() { echo "${EPOCHREALTIME/./}"; }
fmt_us() { printf '%d.%02ds' $(($1 / 1000000)) $((($1 / 10000) % 100)); }
REASON=
# check NAME FUNCTION: runs FUNCTION, prints ok/FAIL with its wall time
check() {
    local name=$1 t d; shift
    REASON=
    t=$(now_us)
    if "$@"; then
        d=$(($(now_us) - t)); PASS=$((PASS + 1))
        printf 'ok    %-58s %8s\n' "$name" "$(fmt_us $d)"
    else
        d=$(($(now_us) - t)); FAIL=$((FAIL + 1)); FAILED+=("$name")
        printf 'FAIL  %-58s %8s  %s\n' "$name" "$(fmt_us $d)" "$REASON"
    fi
}
no() { REASON=$*; return 1; }
# until SECS CMD...: poll CMD every 0.1 s
until_ok() {
    local secs=$1 i; shift
    for ((i = 0; i < secs * 10; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

lab() { "$LAB" "$@"; }

# ---- bring up ---------------------------------------------------------------------
up_first() { lab up >/dev/null 2>"$TMP/up.log" || no "$(tail -n 3 "$TMP/up.log")"; }
up_again() { lab up >/dev/null 2>&1 || no "second up failed"; }
load_env() {
    local k v
    while IFS='=' read -r k v; do [ -n "$k" ] && export "$k=$v"; done < <(lab env)
    local key
    for key in MEND_LAB_DIR MEND_LAB_NETWORK MEND_LAB_SUBNET MEND_LAB_MYSQL_PRIMARY MEND_LAB_MYSQL_REPLICA \
        MEND_LAB_MYSQL_USER MEND_LAB_MYSQL_PASSWORD_FILE MEND_LAB_MYSQL_PRIMARY_SOCKET MEND_LAB_MYSQL_REPLICA_SOCKET \
        MEND_LAB_ZK MEND_LAB_BROKER_CLUSTER MEND_LAB_BROKER_NAME MEND_LAB_BROKER_MASTER MEND_LAB_BROKER_MASTER_IP \
        MEND_LAB_BROKER_SLAVE MEND_LAB_BROKER_SLAVE_IP MEND_LAB_NAMESRV MEND_LAB_DNCS; do
        [ -n "${!key:-}" ] || { no "env key $key missing"; return 1; }
    done
    [ -f "$MEND_LAB_DIR/env" ] || no "$MEND_LAB_DIR/env not written"
}
# the lab's sshd: the lab key logs in (the host key checked against the lab's
# known_hosts) and runs a command; a key the lab did not make is refused
ssh_login() {
    local o=(-n -o BatchMode=yes -o ConnectTimeout=3 -o StrictHostKeyChecking=yes
        -o UserKnownHostsFile="$MEND_LAB_SSH_KNOWN_HOSTS" -o IdentitiesOnly=yes -p "${MEND_LAB_SSH##*:}")
    local out
    out=$(ssh "${o[@]}" -i "$MEND_LAB_SSH_KEY" "$MEND_LAB_SSH_USER@127.0.0.1" "printf %s 'a;b'") ||
        { no "the lab key did not log in"; return 1; }
    [ "$out" = 'a;b' ] || { no "remote printf said '$out'"; return 1; }
    ssh-keygen -q -t ed25519 -N '' -f "$TMP/stranger" </dev/null >/dev/null 2>&1 || { no "ssh-keygen failed"; return 1; }
    if ssh "${o[@]}" -i "$TMP/stranger" "$MEND_LAB_SSH_USER@127.0.0.1" true 2>/dev/null; then
        no "a stranger key logged in"; return 1
    fi
}
status_all_up() { lab status >/dev/null || no "scripts/lab status: not all up"; }
network_internal() {
    [ "$(docker network inspect -f '{{.Internal}} {{range .IPAM.Config}}{{.Subnet}}{{end}}' "$MEND_LAB_NETWORK")" = "true $MEND_LAB_SUBNET" ] ||
        no "network not --internal $MEND_LAB_SUBNET"
}

# ---- MariaDB ----------------------------------------------------------------------
# sql primary|replica SQL: as the mend user over TCP
sql() {
    local addr port
    [ "$1" = primary ] && addr=$MEND_LAB_MYSQL_PRIMARY || addr=$MEND_LAB_MYSQL_REPLICA
    port=${addr##*:}
    shift
    mariadb --no-defaults -h127.0.0.1 -P"$port" -u"$MEND_LAB_MYSQL_USER" -p"$(cat "$MEND_LAB_MYSQL_PASSWORD_FILE")" \
        --connect-timeout=3 -N -B -e "$*"
}
sfield() { mariadb --no-defaults -h127.0.0.1 -P"${MEND_LAB_MYSQL_REPLICA##*:}" -u"$MEND_LAB_MYSQL_USER" \
    -p"$(cat "$MEND_LAB_MYSQL_PASSWORD_FILE")" -e 'SHOW SLAVE STATUS\G' 2>/dev/null |
    awk -v f="$1" '$1 == f":" { sub(/^[^:]*: ?/, ""); print; exit }'; }
row_on_replica() { [ "$(sql replica "SELECT v FROM lab.events WHERE id=$1")" = "$2" ]; }
tables_equal() {
    local q="SELECT COUNT(*), COALESCE(BIT_XOR(CRC32(CONCAT(id, ':', v))), 0) FROM lab.events"
    [ "$(sql primary "$q")" = "$(sql replica "$q")" ]
}
mysql_users() {
    [ "$(stat -c %a "$MEND_LAB_MYSQL_PASSWORD_FILE")" = 600 ] || { no "password file not mode 600"; return 1; }
    sql primary "SELECT 1" >/dev/null && sql replica "SELECT 1" >/dev/null || { no "mend cannot log in over TCP"; return 1; }
    mariadb --no-defaults -uroot -S "$MEND_LAB_MYSQL_PRIMARY_SOCKET" -e 'SELECT 1' >/dev/null || { no "root over socket"; return 1; }
    [ "$(sql primary 'SELECT @@read_only, @@binlog_format, @@log_bin')" = $'0\tROW\t1' ] || { no "primary not rw/ROW/binlog"; return 1; }
    [ "$(sql replica 'SELECT @@read_only, @@binlog_format')" = $'1\tROW' ] || { no "replica not read-only"; return 1; }
    [ "$(sql primary "SELECT COUNT(*) FROM mysql.user WHERE user=''")" = 0 ] || no "anonymous users left"
}
replication_flows() {
    local id=$((RANDOM + 100000))
    sql primary "INSERT INTO lab.events VALUES ($id, 'smoke $id')" || { no "insert on primary"; return 1; }
    until_ok 10 row_on_replica "$id" "smoke $id" || { no "row $id not on replica"; return 1; }
    [ "$(sfield Using_Gtid)" = Slave_Pos ] || no "replica not using GTID (Using_Gtid=$(sfield Using_Gtid))"
}
BROKEN_ID=
inject_1062() {
    local out
    out=$(lab mysql-break-1062 2>/dev/null) || { no "mysql-break-1062 failed"; return 1; }
    BROKEN_ID=${out#id=}
    [ "$(sfield Slave_SQL_Running)" = No ] && [ "$(sfield Last_SQL_Errno)" = 1062 ] ||
        no "replica: SQL=$(sfield Slave_SQL_Running) errno=$(sfield Last_SQL_Errno)"
}
sql_running() { [ "$(sfield Slave_SQL_Running)" = Yes ] && [ "$(sfield Slave_IO_Running)" = Yes ]; }
# running is not enough: "healthy" means the replica applied everything the primary has
caught_up() { sql_running && [ "$(sql replica 'SELECT @@gtid_slave_pos')" = "$(sql primary 'SELECT @@gtid_binlog_pos')" ]; }
fix_1062_by_hand() {
    sql replica "STOP SLAVE; SET GLOBAL slave_exec_mode = 'IDEMPOTENT'; START SLAVE" || { no "IDEMPOTENT"; return 1; }
    until_ok 10 caught_up || { no "replica not caught up after IDEMPOTENT: $(sfield Last_SQL_Error)"; return 1; }
    sql replica "STOP SLAVE; SET GLOBAL slave_exec_mode = 'STRICT'; START SLAVE" || { no "STRICT"; return 1; }
    until_ok 10 caught_up || { no "replica not caught up after STRICT"; return 1; }
    [ "$(sql replica 'SELECT @@global.slave_exec_mode')" = STRICT ] || { no "exec mode not STRICT"; return 1; }
    # no row lost: the primary's row won, both tables are equal
    local id=$((RANDOM + 200000))
    sql primary "INSERT INTO lab.events VALUES ($id, 'after the repair')"
    until_ok 10 row_on_replica "$id" 'after the repair' || { no "replication not flowing after repair"; return 1; }
    row_on_replica "$BROKEN_ID" 'written on the primary' || { no "replica row $BROKEN_ID: $(sql replica "SELECT v FROM lab.events WHERE id=$BROKEN_ID")"; return 1; }
    tables_equal || no "primary and replica differ"
}
master_stop_start() {
    lab mysql-stop primary 2>/dev/null || { no "mysql-stop primary"; return 1; }
    until_ok 15 bash -c "[ \"\$(\"$LAB\" mysql replica -e 'SHOW SLAVE STATUS\G' | awk '\$1==\"Slave_IO_Running:\"{print \$2}')\" != Yes ]" ||
        { no "replica IO still Yes with the primary down"; return 1; }
    lab mysql-start primary --read-only 2>/dev/null || { no "mysql-start primary"; return 1; }
    [ "$(sql primary 'SELECT @@read_only')" = 1 ] || { no "primary not read-only after --read-only start"; return 1; }
    sql primary "SET GLOBAL read_only = 0"
    until_ok 15 sql_running || { no "replica did not reconnect"; return 1; }
    local id=$((RANDOM + 300000))
    sql primary "INSERT INTO lab.events VALUES ($id, 'after restart')"
    until_ok 10 row_on_replica "$id" 'after restart' || no "no replication after restart"
}

# ---- ZooKeeper --------------------------------------------------------------------
zk_get() { lab zk get "$1"; }
zk_nodes() {
    local j ls
    j=$(zk_get "$MEND_LAB_BROKER_STATE_PATH")
    grep -q "\"$MEND_LAB_BROKER_MASTER_IP\":{\"brokerId\":0" <<<"$j" || { no "master IP not brokerId 0: $j"; return 1; }
    grep -q "\"$MEND_LAB_BROKER_SLAVE_IP\":{\"brokerId\":1" <<<"$j" || { no "slave IP not brokerId 1: $j"; return 1; }
    ls=$(lab zk ls "$MEND_LAB_BROKER_ZK_PATH")
    [ "$ls" = "[$MEND_LAB_BROKER_MASTER_IP, $MEND_LAB_BROKER_SLAVE_IP]" ] || no "leaves: $ls"
}
zk_forget_and_reset() {
    lab zk-forget "$MEND_LAB_BROKER_MASTER_IP" 2>/dev/null
    zk_get "$MEND_LAB_BROKER_STATE_PATH" | grep -q "$MEND_LAB_BROKER_MASTER_IP" && { no "zk-forget had no effect"; return 1; }
    lab reset zk >/dev/null 2>&1 || { no "reset zk"; return 1; }
    zk_nodes
}

# ---- containers -------------------------------------------------------------------
probe() { docker exec "$1" sh /home/admin/bin/check_health.sh >/dev/null 2>&1; }
probe_fails() { ! probe "$1"; }
running() { [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ]; }
labels_ok() {
    local c=$MEND_LAB_BROKER_MASTER l
    l=$(docker inspect -f '{{index .Config.Labels "ark.component"}}|{{index .Config.Labels "ark.product"}}|{{index .Config.Labels "aliyun.probe.cmd"}}|{{index .Config.Labels "mend.lab.host"}}|{{.HostConfig.RestartPolicy.Name}}|{{(index .NetworkSettings.Networks "mend-lab-vlan").IPAMConfig.IPv4Address}}' "$c")
    [ "$l" = "mq-broker|mq|sh /home/admin/bin/check_health.sh|host1|always|$MEND_LAB_BROKER_MASTER_IP" ] || no "labels: $l"
}
all_probes_pass() {
    local c bad=()
    while read -r c _; do probe "$c" || bad+=("$c"); done < <(lab containers)
    [ ${#bad[@]} -eq 0 ] || no "failing: ${bad[*]}"
}
STATELESS=task_2390_g0_txc-server_txc_1
software_fault() {
    probe "$STATELESS" || { no "probe fails before the fault"; return 1; }
    lab break "$STATELESS" >/dev/null || { no "lab break"; return 1; }
    probe_fails "$STATELESS" || { no "probe still passes after lab-break"; return 1; }
    running "$STATELESS" || { no "container stopped by lab-break"; return 1; }
    sleep 1
    probe_fails "$STATELESS" || { no "service came back by itself"; return 1; }
    docker restart "$STATELESS" >/dev/null
    until_ok 5 probe "$STATELESS" || no "probe fails after docker restart"
}
hung_probe() {
    lab hang "$STATELESS" >/dev/null
    timeout 2 docker exec "$STATELESS" sh /home/admin/bin/check_health.sh >/dev/null 2>&1
    [ $? = 124 ] || { no "probe did not hang"; return 1; }
    docker restart "$STATELESS" >/dev/null
    until_ok 5 probe "$STATELESS" || no "probe fails after restart"
}
stop_is_prompt() {
    local t d
    t=$(now_us)
    docker stop "$STATELESS" >/dev/null
    d=$(($(now_us) - t))
    docker start "$STATELESS" >/dev/null
    [ $d -lt 3000000 ] || { no "docker stop took $(fmt_us $d): PID 1 ignores TERM"; return 1; }
    until_ok 5 probe "$STATELESS" || no "probe after start"
}
cluster_list() { docker exec "$MEND_LAB_NAMESRV" sh /home/admin/rmq/bin/mqadmin clusterList 2>/dev/null; }
brokers_listed() { # expected IPs...
    local out n ip
    out=$(cluster_list) || return 1
    n=$(grep -c "^$MEND_LAB_BROKER_CLUSTER " <<<"$out")
    [ "$n" = $# ] || return 1
    for ip in "$@"; do grep -q " $ip:10911 " <<<"$out" || return 1; done
}
cluster_list_live() {
    brokers_listed "$MEND_LAB_BROKER_MASTER_IP" "$MEND_LAB_BROKER_SLAVE_IP" || { no "clusterList: $(cluster_list | tail -n +2)"; return 1; }
    # software fault: the broker's service dies, its heartbeat goes stale
    lab break "$MEND_LAB_BROKER_SLAVE" >/dev/null
    until_ok 6 brokers_listed "$MEND_LAB_BROKER_MASTER_IP" || { no "killed slave still listed"; return 1; }
    probe_fails "$MEND_LAB_BROKER_SLAVE" || { no "killed broker's probe passes"; return 1; }
    docker restart "$MEND_LAB_BROKER_SLAVE" >/dev/null
    until_ok 5 brokers_listed "$MEND_LAB_BROKER_MASTER_IP" "$MEND_LAB_BROKER_SLAVE_IP" || { no "slave not back"; return 1; }
    # graceful stop unregisters at once
    docker stop "$MEND_LAB_BROKER_SLAVE" >/dev/null
    brokers_listed "$MEND_LAB_BROKER_MASTER_IP" || { no "stopped slave still listed"; return 1; }
    docker start "$MEND_LAB_BROKER_SLAVE" >/dev/null
    until_ok 5 brokers_listed "$MEND_LAB_BROKER_MASTER_IP" "$MEND_LAB_BROKER_SLAVE_IP" || { no "slave not back after start"; return 1; }
    # the name server down: clusterList fails
    lab break "$MEND_LAB_NAMESRV" >/dev/null
    cluster_list >/dev/null && { no "clusterList works with the namesrv dead"; return 1; }
    docker restart "$MEND_LAB_NAMESRV" >/dev/null
    until_ok 5 brokers_listed "$MEND_LAB_BROKER_MASTER_IP" "$MEND_LAB_BROKER_SLAVE_IP" || no "namesrv not back"
}
dncs_count() { docker exec "$1" curl -s '127.0.0.1/vipserver/api/allDomNames' 2>/dev/null | sed -n 's/.*"count":\([0-9]*\).*/\1/p'; }
dncs_all_count() {
    local c n
    for c in ${MEND_LAB_DNCS//,/ }; do
        n=$(dncs_count "$c")
        [ "$n" = "$1" ] || return 1
    done
}
dncs_counts() {
    local n0
    n0=$(dncs_count "${MEND_LAB_DNCS%%,*}")
    [ -n "$n0" ] && [ "$n0" -gt 0 ] || { no "no count from the first DNCS"; return 1; }
    dncs_all_count "$n0" || { no "counts differ"; return 1; }
    lab dncs-domains add smoke.middleware.lab
    until_ok 5 dncs_all_count $((n0 + 1)) || { no "new domain not synced"; return 1; }
    lab dncs-domains del smoke.middleware.lab
    until_ok 5 dncs_all_count "$n0" || no "domain removal not synced"
}
store_sum() { # container -> sorted "sum path" lines of the store
    docker exec "$1" sh -c 'cd /home/admin/store && find . -type f | sort | xargs md5sum'
}
seed_sum() { (cd "$1" && find . -type f | sort | xargs md5sum); }
store_roundtrip() {
    local c=$MEND_LAB_BROKER_MASTER ip=$MEND_LAB_BROKER_MASTER_IP tmp rc=0
    tmp=$(mktemp -d)
    [ "$(store_sum "$c")" = "$(seed_sum "$MEND_LAB_BROKER_MASTER_SEED")" ] || { no "master store is not its seed"; rm -rf "$tmp"; return 1; }
    [ "$(store_sum "$MEND_LAB_BROKER_SLAVE")" = "$(seed_sum "$MEND_LAB_BROKER_SLAVE_SEED")" ] || { no "slave store is not its seed"; rm -rf "$tmp"; return 1; }
    docker cp "$c:/home/admin/store/." "$tmp/backup" || { no "backup"; rm -rf "$tmp"; return 1; }
    docker rm -f "$c" >/dev/null
    sh "$MEND_LAB_DIR/ark/$c.sh" create >/dev/null || { no "ark script create"; rm -rf "$tmp"; return 1; }
    [ "$(docker inspect -f '{{.State.Status}}' "$c")" = created ] || { no "not in state created"; rm -rf "$tmp"; return 1; }
    docker cp "$tmp/backup/." "$c:/home/admin/store/" || { no "restore"; rm -rf "$tmp"; return 1; }
    docker start "$c" >/dev/null
    [ "$(docker inspect -f '{{(index .NetworkSettings.Networks "mend-lab-vlan").IPAddress}}' "$c")" = "$ip" ] || { no "IP changed"; rc=1; }
    [ "$(store_sum "$c")" = "$(seed_sum "$tmp/backup")" ] || { no "restored store differs from the backup"; rc=1; }
    [ "$(store_sum "$c")" = "$(seed_sum "$MEND_LAB_BROKER_MASTER_SEED")" ] || { no "restored store differs from the seed"; rc=1; }
    until_ok 5 probe "$c" || { no "probe fails after restore"; rc=1; }
    until_ok 5 brokers_listed "$MEND_LAB_BROKER_MASTER_IP" "$MEND_LAB_BROKER_SLAVE_IP" || { no "restored master not listed"; rc=1; }
    rm -rf "$tmp"
    return $rc
}
store_broken() {
    local c=$MEND_LAB_BROKER_SLAVE tmp
    tmp=$(mktemp -d)
    lab break-store "$c" >/dev/null
    docker cp "$c:/home/admin/store/." "$tmp/b" >/dev/null 2>&1 && { no "backup of a broken store succeeded"; rm -rf "$tmp"; return 1; }
    rm -rf "$tmp"
    probe_fails "$c" || { no "probe passes with a broken store"; return 1; }
    docker restart "$c" >/dev/null
    sleep 1
    probe_fails "$c" || { no "a restart healed a hardware fault"; return 1; }
    until_ok 6 brokers_listed "$MEND_LAB_BROKER_MASTER_IP" || { no "broker with broken store still listed"; return 1; }
    lab break "$c" heal-store >/dev/null
    until_ok 5 probe "$c" || no "probe fails after heal-store"
}
host_down_up() {
    local h=host2 names n
    names=$(docker ps -a --filter label=mend.lab.host=$h --format '{{.Names}}')
    lab host-down $h 2>/dev/null
    sleep 1.5
    for n in $names; do running "$n" && { no "$n still running (restart policy brought it back?)"; return 1; }; done
    lab host-up $h 2>/dev/null
    for n in $names; do until_ok 5 probe "$n" || { no "$n probe fails after host-up"; return 1; }; done
}
reset_mariadb() {
    lab reset mariadb >/dev/null 2>"$TMP/reset.log" || { no "$(tail -n 3 "$TMP/reset.log")"; return 1; }
    mysql_users && replication_flows || return 1
    # leave the pair as a reset leaves it: lab.events empty on both (the lab scenarios
    # write their own rows 1..N and count them)
    sql primary "DELETE FROM lab.events" || { no "emptying lab.events"; return 1; }
    until_ok 10 replica_empty || no "lab.events not emptied on the replica"
}
replica_empty() { [ "$(sql replica 'SELECT COUNT(*) FROM lab.events')" = 0 ]; }
reset_containers() { lab reset containers >/dev/null 2>&1 || { no "reset containers failed"; return 1; }; status_all_up; }

# ---- benchmark --------------------------------------------------------------------
bench() {
    local n=$BENCH_N names prev t d1 d2 d3 d4
    prev=$(cat "$MEND_LAB_DIR/host-size" 2>/dev/null || echo 0)
    t=$(now_us)
    lab up containers --host-size "$n" >/dev/null 2>&1 || { echo "bench: up --host-size $n failed"; return 1; }
    echo "bench: up containers --host-size $n: $(fmt_us $(($(now_us) - t)))"
    names=$(docker ps -a --filter label=mend.lab.host=host4 --format '{{.Names}}' | sort -V)
    [ "$(wc -w <<<"$names")" = "$n" ] || { echo "bench: host4 does not hold $n containers"; return 1; }
    lab host-down host4 2>/dev/null
    t=$(now_us)
    for c in $names; do docker restart "$c" >/dev/null; done
    d1=$(($(now_us) - t))
    lab host-down host4 2>/dev/null
    t=$(now_us)
    xargs -P 8 -n 1 docker restart <<<"$names" >/dev/null
    d2=$(($(now_us) - t))
    # the same two on running containers (stop + start)
    t=$(now_us)
    for c in $names; do docker restart "$c" >/dev/null; done
    d3=$(($(now_us) - t))
    t=$(now_us)
    xargs -P 8 -n 1 docker restart <<<"$names" >/dev/null
    d4=$(($(now_us) - t))
    local one=${names%%$'\n'*}
    docker kill "$one" >/dev/null
    t=$(now_us); docker restart "$one" >/dev/null; local d5=$(($(now_us) - t))
    t=$(now_us); docker restart "$one" >/dev/null; local d6=$(($(now_us) - t))
    # probes of all 20 after the parallel restart
    t=$(now_us)
    xargs -P 8 -I{} docker exec {} sh /home/admin/bin/check_health.sh <<<"$names" >/dev/null
    local d7=$(($(now_us) - t))
    printf 'bench: %d containers on host4, killed (host down) -> docker restart, sequential loop:  %s\n' "$n" "$(fmt_us $d1)"
    printf 'bench: %d containers on host4, killed (host down) -> xargs -P 8 docker restart:       %s\n' "$n" "$(fmt_us $d2)"
    printf 'bench: %d containers running -> docker restart, sequential loop:                     %s\n' "$n" "$(fmt_us $d3)"
    printf 'bench: %d containers running -> xargs -P 8 docker restart:                           %s\n' "$n" "$(fmt_us $d4)"
    printf 'bench: one container, killed -> docker restart: %s; running -> docker restart: %s\n' "$(fmt_us $d5)" "$(fmt_us $d6)"
    printf 'bench: %d probes, xargs -P 8 docker exec: %s\n' "$n" "$(fmt_us $d7)"
    lab up containers --host-size "$prev" >/dev/null 2>&1
}

T0=$(now_us)
check "lab up (first call of this run)" up_first
check "lab up again (idempotent, nothing to do)" up_again
check "env keys printed and written" load_env
[ -n "${MEND_LAB_DIR:-}" ] || { echo "no env: giving up"; echo "$PASS passed, $FAIL failed"; exit 1; }
if [ $CHECKS = 1 ]; then
    check "status: everything up" status_all_up
    check "network is --internal with the fixed subnet" network_internal
    check "mariadb: users, password file, roles, ROW binlog" mysql_users
    check "mariadb: replication flows (GTID)" replication_flows
    check "mariadb: 1062 injected, replica SQL thread stopped" inject_1062
    check "mariadb: fixed by hand (IDEMPOTENT then STRICT), no row lost" fix_1062_by_hand
    check "mariadb: primary stopped, started read-only, rejoined" master_stop_start
    check "zookeeper: broker leaves and state machine JSON" zk_nodes
    check "zookeeper: zk-forget, then reset zk" zk_forget_and_reset
    check "ssh: lab key logs in on loopback, a stranger key does not" ssh_login
    check "containers: labels, restart policy, fixed IP" labels_ok
    check "containers: every probe passes" all_probes_pass
    check "containers: PID 1 exits promptly on TERM" stop_is_prompt
    check "software fault: probe fails, restart heals" software_fault
    check "hung probe: times out, restart heals" hung_probe
    check "clusterList lists the live brokers only" cluster_list_live
    check "dncs: same count everywhere, resync" dncs_counts
    check "store: backup, rm, create same IP, restore, byte-identical" store_roundtrip
    check "store: broken store cannot be backed up, survives restart" store_broken
    check "host down: host2 killed stays down, host-up" host_down_up
fi
if [ $BENCH = 1 ]; then
    bench || { FAIL=$((FAIL + 1)); FAILED+=(bench); }
fi
if [ $CHECKS = 1 ]; then
    check "reset containers, all up again" reset_containers
    check "reset mariadb" reset_mariadb
fi
echo "total $(fmt_us $(($(now_us) - T0)))"
echo "$PASS passed, $FAIL failed"
[ $FAIL = 0 ] || { echo "failed: ${FAILED[*]}"; exit 1; }
