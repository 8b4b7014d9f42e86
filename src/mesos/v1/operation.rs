//! Operations with feedback: an offer operation given an id, its states and status updates.

use super::ids::{AgentId, FrameworkId, OperationId, ResourceProviderId, Uuid};
use super::offer::OfferOperation;
use super::resource::Resource;

crate::enumeration! {
    /// An operation's state.
    pub enum OperationState {
        Unsupported = "OPERATION_UNSUPPORTED",
        Pending = "OPERATION_PENDING",
        Finished = "OPERATION_FINISHED",
        Failed = "OPERATION_FAILED",
        Error = "OPERATION_ERROR",
        Dropped = "OPERATION_DROPPED",
        Unreachable = "OPERATION_UNREACHABLE",
        GoneByOperator = "OPERATION_GONE_BY_OPERATOR",
        Recovering = "OPERATION_RECOVERING",
        Unknown = "OPERATION_UNKNOWN",
    }
}

impl OperationState {
    /// Whether the operation has ended for good.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            OperationState::Finished
                | OperationState::Failed
                | OperationState::Error
                | OperationState::Dropped
                | OperationState::GoneByOperator
        )
    }
}

crate::message! {
    /// One status update of an operation.
    pub struct OperationStatus {
        opt operation_id: OperationId,
        req state: OperationState,
        opt message: String,
        rep converted_resources: Resource,
        opt uuid: Uuid,
        opt agent_id: AgentId,
        opt resource_provider_id: ResourceProviderId,
    }
}

crate::message! {
    /// An operation as the master keeps it.
    pub struct Operation {
        opt framework_id: FrameworkId,
        opt agent_id: AgentId,
        req info: OfferOperation,
        req latest_status: OperationStatus,
        rep statuses: OperationStatus,
        req uuid: Uuid,
    }
}
