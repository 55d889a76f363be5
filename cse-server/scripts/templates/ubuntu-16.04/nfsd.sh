#!/usr/bin/env bash
# Turns this VM into the cluster's NFS server exporting /home (idempotent).
set -euo pipefail

systemctl enable nfs-kernel-server.service
systemctl start nfs-kernel-server.service
if ! grep -q '^/home ' /etc/exports 2>/dev/null; then
    echo '/home *(rw,sync,no_root_squash,no_subtree_check)' >> /etc/exports
fi
systemctl restart nfs-kernel-server.service
exportfs -ra
