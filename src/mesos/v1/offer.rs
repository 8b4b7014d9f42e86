//! Offers: resources an agent has for a framework (`Offer`), the operations a framework
//! applies to them (`OfferOperation`: LAUNCH, RESERVE, CREATE ...), resources the master asks back
//! for maintenance (`InverseOffer`), and how long declined resources stay away (`Filters`).

use super::executor::ExecutorInfo;
use super::ids::{AgentId, ExecutorId, FrameworkId, OfferId, OperationId};
use super::master::{DomainInfo, Url};
use super::resource::{AllocationInfo, DiskSourceType, Resource};
use super::task::{TaskGroupInfo, TaskInfo};
use super::time::{DurationInfo, TimeInfo};
use super::values::Scalar;

crate::message! {
    /// A maintenance window: from `start`, for `duration` (open-ended without one).
    pub struct Unavailability {
        req start: TimeInfo,
        opt duration: DurationInfo,
    }
}

crate::message! {
    /// Resources of one agent offered to one framework.
    pub struct Offer {
        req id: OfferId,
        req framework_id: FrameworkId,
        req agent_id: AgentId,
        req hostname: String,
        opt url: Url,
        opt domain: DomainInfo,
        rep resources: Resource,
        rep attributes: super::agent::Attribute,
        rep executor_ids: ExecutorId,
        opt unavailability: Unavailability,
        opt allocation_info: AllocationInfo,
    }
}

crate::enumeration! {
    /// What an operation on offered resources does.
    pub enum OperationType {
        Unknown = "UNKNOWN",
        Launch = "LAUNCH",
        LaunchGroup = "LAUNCH_GROUP",
        Reserve = "RESERVE",
        Unreserve = "UNRESERVE",
        Create = "CREATE",
        Destroy = "DESTROY",
        GrowVolume = "GROW_VOLUME",
        ShrinkVolume = "SHRINK_VOLUME",
        CreateDisk = "CREATE_DISK",
        DestroyDisk = "DESTROY_DISK",
    }
}

crate::message! {
    /// Launch tasks.
    pub struct Launch {
        rep task_infos: TaskInfo,
    }
}

crate::message! {
    /// Launch a task group under one executor.
    pub struct LaunchGroup {
        req executor: ExecutorInfo,
        req task_group: TaskGroupInfo,
    }
}

crate::message! {
    /// Reserve resources (refining `source` when given).
    pub struct Reserve {
        rep source: Resource,
        rep resources: Resource,
    }
}

crate::message! {
    /// Unreserve resources.
    pub struct Unreserve {
        rep resources: Resource,
    }
}

crate::message! {
    /// Create persistent volumes.
    pub struct Create {
        rep volumes: Resource,
    }
}

crate::message! {
    /// Destroy persistent volumes.
    pub struct Destroy {
        rep volumes: Resource,
    }
}

crate::message! {
    /// Grow a persistent volume.
    pub struct GrowVolume {
        req volume: Resource,
        req addition: Resource,
    }
}

crate::message! {
    /// Shrink a persistent volume.
    pub struct ShrinkVolume {
        req volume: Resource,
        req subtract: Scalar,
    }
}

crate::message! {
    /// Turn raw disk space into a volume or a block device.
    pub struct CreateDisk {
        req source: Resource,
        req target_type: DiskSourceType,
        opt target_profile: String,
    }
}

crate::message! {
    /// Turn a volume or block device back into raw disk space.
    pub struct DestroyDisk {
        req source: Resource,
    }
}

crate::message! {
    /// One operation of an ACCEPT (Mesos's `Offer.Operation`).
    pub struct OfferOperation {
        opt kind "type": OperationType,
        opt id: OperationId,
        opt launch: Launch,
        opt launch_group: LaunchGroup,
        opt reserve: Reserve,
        opt unreserve: Unreserve,
        opt create: Create,
        opt destroy: Destroy,
        opt grow_volume: GrowVolume,
        opt shrink_volume: ShrinkVolume,
        opt create_disk: CreateDisk,
        opt destroy_disk: DestroyDisk,
    }
}

crate::message! {
    /// Resources the master asks back from a framework, for an agent's maintenance.
    pub struct InverseOffer {
        req id: OfferId,
        opt url: Url,
        req framework_id: FrameworkId,
        opt agent_id: AgentId,
        req unavailability: Unavailability,
        rep resources: Resource,
    }
}

crate::message! {
    /// How long resources a framework declines are kept from it.
    pub struct Filters {
        def refuse_seconds: f64 = 5.0,
    }
}

crate::message! {
    /// A framework's request for resources (the built-in allocator ignores it).
    pub struct Request {
        opt agent_id: AgentId,
        rep resources: Resource,
    }
}

impl OfferOperation {
    /// A LAUNCH of `tasks`.
    pub fn launch(tasks: Vec<TaskInfo>) -> OfferOperation {
        OfferOperation {
            kind: Some(OperationType::Launch),
            launch: Some(Launch {
                task_infos: tasks,
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

impl OfferOperation {
    /// A CREATE of one persistent volume.
    pub fn create(volume: Resource) -> OfferOperation {
        OfferOperation {
            kind: Some(OperationType::Create),
            create: Some(Create {
                volumes: vec![volume],
                ..Default::default()
            }),
            ..Default::default()
        }
    }
}

impl Filters {
    pub fn refuse(seconds: f64) -> Filters {
        Filters {
            refuse_seconds: Some(seconds),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_default_to_five_seconds() {
        let f: Filters = serde_json::from_value(json!({})).unwrap();
        assert_eq!(f.refuse_seconds(), 5.0);
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"refuse_seconds": 5.0})
        );
        assert_eq!(crate::mesos::v1::message::to_sparse_value(&f), json!({}));
    }
}
