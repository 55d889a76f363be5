//! `ViewManager.CreateContainerView` views: the usual way a pyVmomi user
//! lists VMs (`viewManager.CreateContainerView(rootFolder, [vim.VirtualMachine], True).view`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use super::values::MoRef;

/// One container view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerView {
    /// Key of the session that created it (views die with their session).
    pub session: String,
    pub container: MoRef,
    /// Managed types the view holds (empty: every type).
    pub types: Vec<String>,
    pub recursive: bool,
}

impl ContainerView {
    /// Whether the VMs below the root folder belong in this view.
    pub fn includes_vms(&self) -> bool {
        self.recursive
            && (self.types.is_empty()
                || self
                    .types
                    .iter()
                    .any(|t| matches!(t.as_str(), "VirtualMachine" | "ManagedEntity")))
    }
}

/// Views created and not yet destroyed.
#[derive(Debug, Default)]
pub struct ViewStore {
    next_id: AtomicU64,
    views: Mutex<BTreeMap<String, ContainerView>>,
}

impl ViewStore {
    /// Stores a view; returns its MoId (`session[…]…` as vCenter names them).
    pub fn create(&self, view: ContainerView) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("session[{}]{n}", uuid::Uuid::new_v4());
        self.views.lock().insert(id.clone(), view);
        id
    }

    pub fn get(&self, id: &str) -> Option<ContainerView> {
        self.views.lock().get(id).cloned()
    }

    pub fn destroy(&self, id: &str) -> bool {
        self.views.lock().remove(id).is_some()
    }

    /// Destroys every view a session created (at logout).
    pub fn destroy_session(&self, session: &str) {
        self.views.lock().retain(|_, view| view.session != session);
    }

    pub fn ids(&self) -> Vec<String> {
        self.views.lock().keys().cloned().collect()
    }
}
