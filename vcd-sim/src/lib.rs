//! Simulator of everything CSE talks to: vCD's REST API, vCD's API-extension
//! routing over AMQP, and vCenter guest operations backed by a guest model that
//! runs the bootstrap scripts against simulated Linux, kubeadm and kubectl.
