#!/usr/bin/env bash
# Initializes the Kubernetes master: kubeadm init, a kubeconfig for root, and
# the Weave Net pod network.
set -euo pipefail

K8S_VERSION=v1.10.11

tries=0
while [ "$(systemctl is-active docker)" != "active" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 60 ]; then
        echo "error: docker did not become active" >&2
        exit 1
    fi
    echo 'waiting for docker'
    sleep 5
done

kubeadm init --kubernetes-version="$K8S_VERSION" > /root/kubeadm-init.out
mkdir -p /root/.kube
cp -f /etc/kubernetes/admin.conf /root/.kube/config
chown "$(id -u):$(id -g)" /root/.kube/config
kubectl apply -f /root/weave.yml
