#!/usr/bin/env bash
# Joins this VM to the cluster. The server replaces the token and ip
# placeholders (this file must hold no other braces).
set -euo pipefail

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

kubeadm join --token {token} {ip}:6443 --discovery-token-unsafe-skip-ca-verification
