#!/usr/bin/env bash
# Guest customization script of the Ubuntu 16.04 template VM. vCD runs it
# twice, with "precustomization" and then "postcustomization"; the work is
# done once: password logins over ssh (vCD sets root's password), no
# cloud-init, fresh ssh host keys.
set -euo pipefail

phase="${1:-postcustomization}"
if [ "$phase" != "postcustomization" ]; then
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
sed -i 's/^PasswordAuthentication no/PasswordAuthentication yes/' /etc/ssh/sshd_config
apt-get -q remove -y cloud-init
dpkg-reconfigure openssh-server
sync
