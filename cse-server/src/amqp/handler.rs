//! What the listeners dispatch to: one call per extension request, answering
//! with the reply to send back through vCD.

use async_trait::async_trait;
use cse_core::ext::{ExtReply, ExtRequest};

/// Handles one forwarded request. Must always answer (errors are replies
/// with an error status); a panic is caught and answered with a 500.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Answers one forwarded request.
    async fn handle(&self, request: ExtRequest) -> ExtReply;
}
