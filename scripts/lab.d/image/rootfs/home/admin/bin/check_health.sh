#!/bin/sh
# aliyun.probe.cmd of every mend lab container (`sh /home/admin/bin/check_health.sh`):
# exits 0 only while the role's service really runs.
. /bin/lab-common
fail() { echo "unhealthy: $*" >&2; exit 1; }
# `lab-break hang`: a probe that never answers
if [ -e "$RUN/hang" ]; then
    while :; do sleep 3600; done
fi
timeout 2 wget -q -O /dev/null "http://127.0.0.1:$LAB_PORT/health" 2>/dev/null ||
    fail "$LAB_ROLE service not answering on 127.0.0.1:$LAB_PORT"
case $LAB_ROLE in
mq-broker)
    [ -d "$STORE" ] && ls "$STORE" >/dev/null 2>&1 || fail "store $STORE unreadable"
    hb=$(cat "$RUN/heartbeat" 2>/dev/null) || fail "no heartbeat yet"
    age=$(( $(date +%s) - hb ))
    [ "$age" -le "$LAB_HEARTBEAT_TTL" ] || fail "heartbeat ${age}s old"
    ;;
dncs)
    timeout 2 wget -q -O - "http://127.0.0.1:$LAB_PORT/vipserver/api/allDomNames" 2>/dev/null |
        grep -q '"count"' || fail "allDomNames not served"
    ;;
esac
echo ok
