#!/usr/bin/env bash
# Runs SCENARIO as N shards on the cluster kubectl points at, then merges them:
#   deploy/kubernetes/run.sh 4 scenarios/idle-100k.toml [IMAGE]
# The image must hold msbench on PATH (deploy/kubernetes/Dockerfile builds one). The merged
# results stay on the msbench-results volume, under the shard Job's uid.
set -euo pipefail
n=${1:?usage: run.sh SHARDS SCENARIO.toml [IMAGE]}
scenario=${2:?usage: run.sh SHARDS SCENARIO.toml [IMAGE]}
image=${3:-msbench:latest}
here=$(dirname "$0")
start_in=${MSBENCH_START_IN:-60}  # long enough for every pod to be scheduled and pulled

kubectl apply -f "$here/results-pvc.yaml"
kubectl delete job msbench msbench-merge --ignore-not-found
kubectl create configmap msbench-scenario --from-file=scenario.toml="$scenario" \
  --dry-run=client -o yaml | kubectl apply -f -
start_at=$(( $(date +%s) + start_in ))
sed -e "s/^\(  completions:\) 3/\1 $n/" -e "s/^\(  parallelism:\) 3/\1 $n/" \
    -e "/name: MSBENCH_SHARD_COUNT/{n;s/value: \"3\"/value: \"$n\"/}" \
    -e "/name: MSBENCH_START_AT/{n;s/value: \"\"/value: \"$start_at\"/}" \
    -e "s|image: msbench:latest|image: $image|" "$here/job.yaml" | kubectl apply -f -
run_id=$(kubectl get job msbench -o jsonpath='{.metadata.uid}')
echo "run $run_id: $n shards start at $start_at (Unix time)"
kubectl wait --for=condition=complete job/msbench --timeout=24h
sed -e "/name: MSBENCH_RUN_ID/{n;s/value: \"\"/value: \"$run_id\"/}" \
    -e "s|image: msbench:latest|image: $image|" "$here/merge-job.yaml" | kubectl apply -f -
kubectl wait --for=condition=complete job/msbench-merge --timeout=10m
kubectl logs job/msbench-merge
