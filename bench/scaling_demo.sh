#!/bin/bash
# Multi-process set-up on one machine (docs/scaling.md): one API server without projections, two
# `coopledger project` runners, one CLI process writing; then the views are compared with a rebuild.
# Needs PostgreSQL at 127.0.0.1:5432 (database test). Run: bench/scaling_demo.sh
cd "$(dirname "$0")/.."
S=scaling_demo_$$
psql -h 127.0.0.1 -U postgres -d test -qc "CREATE SCHEMA $S"
export COOPLEDGER_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test?schema=$S"
CL=.venv/bin/coopledger
$CL coops >/dev/null 2>&1   # migrates
$CL project --batch-size 20 > ${TMPDIR:-/tmp}/coopledger-scaling-runner1.log 2>&1 & R1=$!; sleep 2
$CL project --batch-size 20 > ${TMPDIR:-/tmp}/coopledger-scaling-runner2.log 2>&1 & R2=$!; sleep 2
$CL serve --no-projections --port 8765 > ${TMPDIR:-/tmp}/coopledger-scaling-serve.log 2>&1 & SV=$!
sleep 4
echo "processes: serve --no-projections pid $SV; project pids $R1 $R2"
$CL demo > ${TMPDIR:-/tmp}/coopledger-scaling-demo.log 2>&1; echo "demo recorded by a CLI process: exit $?"
TOKEN=$($CL keys create --role admin --coop cluster-numerique-sud --label scaling-demo 2>/dev/null | grep -o 'clk_[A-Za-z0-9_-]*' | head -1)
POS=$(curl -s localhost:8765/health | python3 -c 'import sys,json; d=json.load(sys.stdin); print(d["position"])')
echo "health: $(curl -s localhost:8765/health)"
echo "trial balance with min_position=$POS (read-your-writes, waits for the separate runners):"
curl -s -H "Authorization: Bearer $TOKEN" "localhost:8765/v1/coops/cluster-numerique-sud/trial-balance?min_position=$POS" | head -c 300; echo
sleep 1
echo "positions:"; psql -h 127.0.0.1 -U postgres -d test -Atc "SELECT projection, position FROM $S.projection_positions ORDER BY 1" | head -30
kill $SV $R1 $R2; wait 2>/dev/null
echo "batches applied by each runner process:"; grep -h "runner stopped" ${TMPDIR:-/tmp}/coopledger-scaling-runner[12].log
echo "runners stopped; views compared with a rebuild by one runner:"
.venv/bin/python - <<PY
import os, subprocess, sys
sys.path.insert(0, ".")

from ledger.service import Ledger
from ledger.store import StoreConfig
from projections.runner import ProjectionRunner
from tests.builders import dump_projections
l = Ledger(StoreConfig.from_url(os.environ["COOPLEDGER_DATABASE_URL"]))
r = ProjectionRunner(l)
before = dump_projections(r)
print("views at position", r.position(), "of", l.position(), "; rows:", sum(len(v) for v in before.values()))
r.rebuild()
print("equal to a rebuild by one runner:", dump_projections(r) == before)
l.close()
PY
psql -h 127.0.0.1 -U postgres -d test -qc "SET client_min_messages=warning; DROP SCHEMA $S CASCADE"
