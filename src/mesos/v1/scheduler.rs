//! The v1 scheduler API (`POST /api/v1/scheduler`): the calls a framework sends and the
//! events of its stream. Each envelope names its kind in `type` and carries the matching
//! sub-message under the kind's name in lower case (`{"type": "KILL", "kill": {...}}`).

use super::checks::KillPolicy;
use super::framework::FrameworkInfo;
use super::ids::{
    AgentId, ExecutorId, FrameworkId, OfferId, OperationId, ResourceProviderId, TaskId,
};
use super::master::MasterInfo;
use super::offer::{Filters, InverseOffer, Offer, OfferOperation, Request};
use super::operation::OperationStatus;
use super::task::TaskStatus;

crate::enumeration! {
    /// The kind of a scheduler call.
    pub enum CallType {
        Unknown = "UNKNOWN",
        Subscribe = "SUBSCRIBE",
        Teardown = "TEARDOWN",
        Accept = "ACCEPT",
        Decline = "DECLINE",
        AcceptInverseOffers = "ACCEPT_INVERSE_OFFERS",
        DeclineInverseOffers = "DECLINE_INVERSE_OFFERS",
        Revive = "REVIVE",
        Kill = "KILL",
        Shutdown = "SHUTDOWN",
        Acknowledge = "ACKNOWLEDGE",
        AcknowledgeOperationStatus = "ACKNOWLEDGE_OPERATION_STATUS",
        Reconcile = "RECONCILE",
        ReconcileOperations = "RECONCILE_OPERATIONS",
        Message = "MESSAGE",
        Request = "REQUEST",
        Suppress = "SUPPRESS",
        UpdateFramework = "UPDATE_FRAMEWORK",
    }
}

crate::enumeration! {
    /// What an attribute constraint looks at besides named attributes.
    pub enum PseudoattributeType {
        Unknown = "UNKNOWN",
        Hostname = "HOSTNAME",
        Region = "REGION",
        Zone = "ZONE",
    }
}

crate::message! {
    /// Which attribute a constraint is about: a pseudo-attribute or a named one.
    pub struct Selector {
        opt pseudoattribute_type: PseudoattributeType,
        opt attribute_name: String,
    }
}

crate::message! {
    /// A text for a predicate to compare with.
    pub struct TextValue {
        req value: String,
    }
}

crate::message! {
    /// A regular expression for a predicate to match.
    pub struct TextRegex {
        req regex: String,
    }
}

crate::message! {
    /// A predicate without an argument (exists, not exists).
    pub struct Flag {}
}

crate::message! {
    /// What a constraint requires of the selected attribute: exactly one field is set.
    pub struct Predicate {
        opt exists: Flag,
        opt not_exists: Flag,
        opt text_equals: TextValue,
        opt text_not_equals: TextValue,
        opt text_matches: TextRegex,
        opt text_not_matches: TextRegex,
    }
}

crate::message! {
    /// A constraint on one attribute of the agents a framework is offered.
    pub struct AttributeConstraint {
        req selector: Selector,
        req predicate: Predicate,
    }
}

crate::message! {
    /// Constraints that hold together.
    pub struct ConstraintGroup {
        rep attribute_constraints: AttributeConstraint,
    }
}

crate::message! {
    /// The constraints of one role: an agent must meet one of the groups.
    pub struct RoleConstraints {
        rep groups: ConstraintGroup,
    }
}

crate::message! {
    /// Which agents a framework is offered, by role.
    pub struct OfferConstraints {
        map role_constraints: RoleConstraints,
    }
}

crate::message! {
    /// SUBSCRIBE: register (or re-register, with `framework_info.id`).
    pub struct Subscribe {
        req framework_info: FrameworkInfo,
        rep suppressed_roles: String,
        opt offer_constraints: OfferConstraints,
    }
}

crate::message! {
    /// ACCEPT: use offers with operations.
    pub struct Accept {
        rep offer_ids: OfferId,
        rep operations: OfferOperation,
        opt filters: Filters,
    }
}

crate::message! {
    /// DECLINE: hand offers back.
    pub struct Decline {
        rep offer_ids: OfferId,
        opt filters: Filters,
    }
}

crate::message! {
    /// ACCEPT_INVERSE_OFFERS and DECLINE_INVERSE_OFFERS.
    pub struct InverseOffersReply {
        rep inverse_offer_ids: OfferId,
        opt filters: Filters,
    }
}

crate::message! {
    /// REVIVE and SUPPRESS: for these roles, or all when empty.
    pub struct Roles {
        rep roles: String,
    }
}

crate::message! {
    /// KILL a task.
    pub struct Kill {
        req task_id: TaskId,
        opt agent_id: AgentId,
        opt kill_policy: KillPolicy,
    }
}

crate::message! {
    /// SHUTDOWN an executor.
    pub struct Shutdown {
        req executor_id: ExecutorId,
        req agent_id: AgentId,
    }
}

crate::message! {
    /// ACKNOWLEDGE a status update that carried a uuid.
    pub struct Acknowledge {
        req agent_id: AgentId,
        req task_id: TaskId,
        /// The status's uuid as it came (base64).
        req uuid: String,
    }
}

crate::message! {
    /// ACKNOWLEDGE_OPERATION_STATUS.
    pub struct AcknowledgeOperationStatus {
        opt agent_id: AgentId,
        opt resource_provider_id: ResourceProviderId,
        req uuid: String,
        req operation_id: OperationId,
    }
}

crate::message! {
    /// A task to reconcile.
    pub struct ReconcileTask {
        req task_id: TaskId,
        opt agent_id: AgentId,
    }
}

crate::message! {
    /// RECONCILE: these tasks, or all of the framework's when empty.
    pub struct Reconcile {
        rep tasks: ReconcileTask,
    }
}

crate::message! {
    /// An operation to reconcile.
    pub struct ReconcileOperation {
        req operation_id: OperationId,
        opt agent_id: AgentId,
        opt resource_provider_id: ResourceProviderId,
    }
}

crate::message! {
    /// RECONCILE_OPERATIONS.
    pub struct ReconcileOperations {
        rep operations: ReconcileOperation,
    }
}

crate::message! {
    /// MESSAGE to an executor (and the MESSAGE event from one); `data` is base64.
    pub struct ExecutorMessage {
        req agent_id: AgentId,
        req executor_id: ExecutorId,
        req data: String,
    }
}

crate::message! {
    /// REQUEST resources.
    pub struct Requests {
        rep requests: Request,
    }
}

crate::message! {
    /// A scheduler call.
    pub struct Call {
        opt framework_id: FrameworkId,
        opt kind "type": CallType,
        opt subscribe: Subscribe,
        opt accept: Accept,
        opt decline: Decline,
        opt accept_inverse_offers: InverseOffersReply,
        opt decline_inverse_offers: InverseOffersReply,
        opt revive: Roles,
        opt kill: Kill,
        opt shutdown: Shutdown,
        opt acknowledge: Acknowledge,
        opt acknowledge_operation_status: AcknowledgeOperationStatus,
        opt reconcile: Reconcile,
        opt reconcile_operations: ReconcileOperations,
        opt message: ExecutorMessage,
        opt request: Requests,
        opt suppress: Roles,
        opt update_framework: Subscribe,
    }
}

crate::enumeration! {
    /// The kind of a scheduler event.
    pub enum EventType {
        Unknown = "UNKNOWN",
        Subscribed = "SUBSCRIBED",
        Offers = "OFFERS",
        InverseOffers = "INVERSE_OFFERS",
        Rescind = "RESCIND",
        RescindInverseOffer = "RESCIND_INVERSE_OFFER",
        Update = "UPDATE",
        UpdateOperationStatus = "UPDATE_OPERATION_STATUS",
        Message = "MESSAGE",
        Failure = "FAILURE",
        Error = "ERROR",
        Heartbeat = "HEARTBEAT",
    }
}

crate::message! {
    /// SUBSCRIBED: the framework's id and how often heartbeats come.
    pub struct Subscribed {
        req framework_id: FrameworkId,
        opt heartbeat_interval_seconds: f64,
        opt master_info: MasterInfo,
    }
}

crate::message! {
    /// OFFERS.
    pub struct Offers {
        rep offers: Offer,
    }
}

crate::message! {
    /// INVERSE_OFFERS.
    pub struct InverseOffers {
        rep inverse_offers: InverseOffer,
    }
}

crate::message! {
    /// RESCIND: an offer is withdrawn.
    pub struct Rescind {
        req offer_id: OfferId,
    }
}

crate::message! {
    /// RESCIND_INVERSE_OFFER.
    pub struct RescindInverseOffer {
        req inverse_offer_id: OfferId,
    }
}

crate::message! {
    /// UPDATE: a task's status.
    pub struct Update {
        req status: TaskStatus,
    }
}

crate::message! {
    /// UPDATE_OPERATION_STATUS.
    pub struct UpdateOperationStatus {
        req status: OperationStatus,
    }
}

crate::message! {
    /// FAILURE: an agent was lost (only `agent_id`), or an executor ended.
    pub struct Failure {
        opt agent_id: AgentId,
        opt executor_id: ExecutorId,
        opt status: i32,
    }
}

crate::message! {
    /// ERROR: the master ended the framework.
    pub struct Error {
        req message: String,
    }
}

crate::message! {
    /// A scheduler event.
    pub struct Event {
        opt kind "type": EventType,
        opt subscribed: Subscribed,
        opt offers: Offers,
        opt inverse_offers: InverseOffers,
        opt rescind: Rescind,
        opt rescind_inverse_offer: RescindInverseOffer,
        opt update: Update,
        opt update_operation_status: UpdateOperationStatus,
        opt message: ExecutorMessage,
        opt failure: Failure,
        opt error: Error,
    }
}

impl Call {
    /// A call of `kind`, nothing else set.
    pub fn new(kind: CallType) -> Call {
        Call {
            kind: Some(kind),
            ..Default::default()
        }
    }

    /// ACKNOWLEDGE of `status` (which must carry an agent id and a uuid).
    pub fn acknowledge(status: &TaskStatus) -> Call {
        Call {
            acknowledge: Some(Acknowledge {
                agent_id: status.agent_id.clone().unwrap_or_default(),
                task_id: status.task_id.clone(),
                uuid: status.uuid.clone().unwrap_or_default(),
                ..Default::default()
            }),
            ..Call::new(CallType::Acknowledge)
        }
    }
}

impl Event {
    pub fn kind(&self) -> EventType {
        self.kind.clone().unwrap_or_default()
    }
}
