#!/usr/bin/env bash
# Guest customization script of the Photon OS 2.0 template VM. vCD runs it
# twice, with "precustomization" and then "postcustomization"; the work is
# done once, after vCD has applied the computer name. vCD sets root's
# password itself (AdminPassword); this script makes sure that password does
# not age out and turns off root password logins over ssh.
set -euo pipefail

phase="${1:-postcustomization}"
if [ "$phase" != "postcustomization" ]; then
    exit 0
fi

chage -I -1 -m 0 -M -1 -E -1 root

# Root password access over ssh is dangerous; ssh keys are recommended.
sed -i '/^PermitRootLogin yes/d' /etc/ssh/sshd_config
systemctl reload sshd.service

sync
