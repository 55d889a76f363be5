#!/usr/bin/env bash
# Template customization for Photon OS 2.0: docker, Kubernetes 1.10.11 with
# kubeadm, pre-pulled control-plane, DNS and Weave Net images, the Weave Net
# manifest in root's home, and the NFS utilities (server left disabled).
set -euo pipefail

K8S_VERSION=1.10.11
PHOTON_RELEASE=1.ph2
WEAVE_VERSION=2.3.0
DNS_VERSION=1.14.7
REGISTRY=gcr.io/google_containers

wait_for_service() {
    local unit="$1"
    local tries=0
    while [ "$(systemctl is-active "$unit")" != "active" ]; do
        tries=$((tries + 1))
        if [ "$tries" -gt 60 ]; then
            echo "error: $unit did not become active" >&2
            exit 1
        fi
        echo "waiting for $unit"
        sleep 5
    done
}

echo 'opening the firewall for the cluster'
cat > /etc/systemd/system/iptables-ports.service <<'UNIT'
[Unit]
After=iptables.service
Requires=iptables.service
[Service]
Type=oneshot
ExecStartPre=/usr/sbin/iptables -P INPUT ACCEPT
ExecStartPre=/usr/sbin/iptables -P OUTPUT ACCEPT
ExecStart=/usr/sbin/iptables -P FORWARD ACCEPT
TimeoutSec=0
RemainAfterExit=yes
[Install]
WantedBy=iptables.service
UNIT
chmod 0644 /etc/systemd/system/iptables-ports.service
systemctl enable iptables-ports.service
systemctl start iptables-ports.service

echo 'starting docker'
systemctl enable docker
systemctl start docker
wait_for_service docker

echo 'installing kubernetes'
tdnf install -yq wget "kubernetes-${K8S_VERSION}-${PHOTON_RELEASE}" "kubernetes-kubeadm-${K8S_VERSION}-${PHOTON_RELEASE}"

echo 'pulling container images'
for image in kube-controller-manager-amd64 kube-scheduler-amd64 kube-apiserver-amd64 kube-proxy-amd64; do
    docker pull "${REGISTRY}/${image}:v${K8S_VERSION}"
done
for image in k8s-dns-sidecar-amd64 k8s-dns-kube-dns-amd64 k8s-dns-dnsmasq-nanny-amd64; do
    docker pull "${REGISTRY}/${image}:${DNS_VERSION}"
done
docker pull "${REGISTRY}/etcd-amd64:3.1.12"
docker pull "${REGISTRY}/pause-amd64:3.1"
docker pull "weaveworks/weave-npc:${WEAVE_VERSION}"
docker pull "weaveworks/weave-kube:${WEAVE_VERSION}"

echo 'downloading the Weave Net manifest'
kubever="$(kubectl version --client | base64 | tr -d '\n')"
wget --no-verbose -O /root/weave.yml "https://cloud.weave.works/k8s/net?k8s-version=${kubever}&v=${WEAVE_VERSION}"

echo 'installing NFS utilities'
tdnf install -yq nfs-utils
systemctl stop nfs-server.service
systemctl disable nfs-server.service

echo 'Notice: system not upgraded to the latest version'

# Every VM made from the template must get its own machine id.
echo -n > /etc/machine-id
sync
echo 'customization completed'
