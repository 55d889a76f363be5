#!/usr/bin/env bash
# Template customization for Ubuntu 16.04: IPv6 off, an extra resolver, the
# disk grown, docker-ce 18.03 and Kubernetes 1.10.11 from their signed apt
# repositories, pre-pulled control-plane, DNS and Weave Net images, the Weave
# Net manifest in root's home and the weave script, and the NFS server
# packages (server left disabled).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
K8S_VERSION=1.10.11
K8S_PACKAGE_VERSION=1.10.11-00
DOCKER_VERSION=18.03.0~ce-0~ubuntu
WEAVE_VERSION=2.3.0
DNS_VERSION=1.14.8
REGISTRY=k8s.gcr.io

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

echo 'configuring the network'
cat >> /etc/sysctl.conf <<'SYSCTL'
net.ipv6.conf.all.disable_ipv6 = 1
net.ipv6.conf.default.disable_ipv6 = 1
net.ipv6.conf.lo.disable_ipv6 = 1
SYSCTL
echo 'nameserver 8.8.8.8' >> /etc/resolvconf/resolv.conf.d/tail
resolvconf -u
systemctl restart networking.service
wait_for_service networking

echo 'growing the root file system'
growpart /dev/sda 1 || true
resize2fs /dev/sda1 || true

echo 'installing docker and kubernetes'
apt-get -q update
apt-get -q install -y apt-transport-https ca-certificates curl software-properties-common
curl -fsSL https://download.docker.com/linux/ubuntu/gpg | apt-key add -
curl -fsSL https://packages.cloud.google.com/apt/doc/apt-key.gpg | apt-key add -
echo 'deb http://apt.kubernetes.io/ kubernetes-xenial main' > /etc/apt/sources.list.d/kubernetes.list
add-apt-repository "deb [arch=amd64] https://download.docker.com/linux/ubuntu $(lsb_release -cs) stable"
apt-get -q update
apt-get -q install -y "docker-ce=${DOCKER_VERSION}"
apt-get -q install -y "kubelet=${K8S_PACKAGE_VERSION}" "kubeadm=${K8S_PACKAGE_VERSION}" "kubectl=${K8S_PACKAGE_VERSION}" kubernetes-cni=0.6.0-00
apt-get -q autoremove -y
systemctl restart docker
wait_for_service docker

echo 'pulling container images'
for image in kube-apiserver-amd64 kube-controller-manager-amd64 kube-proxy-amd64 kube-scheduler-amd64; do
    docker pull "${REGISTRY}/${image}:v${K8S_VERSION}"
done
docker pull "${REGISTRY}/etcd-amd64:3.1.12"
docker pull "${REGISTRY}/pause-amd64:3.1"
for image in k8s-dns-dnsmasq-nanny-amd64 k8s-dns-kube-dns-amd64 k8s-dns-sidecar-amd64; do
    docker pull "${REGISTRY}/${image}:${DNS_VERSION}"
done
docker pull "weaveworks/weave-kube:${WEAVE_VERSION}"
docker pull "weaveworks/weave-npc:${WEAVE_VERSION}"

echo 'downloading Weave Net'
kubever="$(kubectl version --client | base64 | tr -d '\n')"
wget --no-verbose -O /root/weave.yml "https://cloud.weave.works/k8s/net?k8s-version=${kubever}&v=${WEAVE_VERSION}"
curl -fsSL git.io/weave -o /usr/local/bin/weave
chmod a+x /usr/local/bin/weave

echo 'installing NFS packages'
apt-get -q install -y nfs-common nfs-kernel-server
systemctl stop nfs-kernel-server.service
systemctl disable nfs-kernel-server.service

# Every VM made from the template must get its own machine id.
echo -n > /etc/machine-id
sync
echo 'customization completed'
